/**
 * A file of the data folder that is there but cannot be used as it is (a database the server may
 * not write, a secret.key that does not belong with the database): what is wrong, naming the file,
 * and the fix. The server refuses to start with it (`rdadmin serve`: exit 2).
 */
export class DataFileError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'DataFileError';
  }
}
