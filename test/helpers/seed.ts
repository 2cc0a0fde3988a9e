import { bootstrap } from '../../src/server/bootstrap';
import { hashPassword, hashToken, newSecret } from '../../src/server/crypto';
import { openStore } from '../../src/server/store';
import { AREAS } from '../../src/wire/scopes';

/**
 * A server's database written straight through the store (fast, before any server runs on it):
 * bootstrapped, with these users in Default (one shared password hash, 'password123'), and an
 * all:rw API token of admin's named `tokenName`, which it returns.
 */
export async function seedDatabase(
  dbFile: string,
  users: { name: string; note?: string }[],
  tokenName: string,
): Promise<string> {
  const store = await openStore(dbFile);
  try {
    await bootstrap(store, () => {});
    const hash = await hashPassword('password123');
    const group = (await store.users.getGroupByName('Default'))!;
    for (const u of users) {
      await store.users.create({
        name: u.name,
        password_hash: hash,
        group_guid: group.guid,
        status: 1,
        note: u.note ?? '',
      });
    }
    const token = newSecret('rdt');
    await store.auth.createToken({
      name: tokenName,
      tokenHash: hashToken(token),
      ownerGuid: (await store.users.getByName('admin'))!.guid,
      permissions: JSON.stringify(Object.fromEntries(AREAS.map((a) => [a, 'rw']))),
      expiresAt: null,
    });
    return token;
  } finally {
    await store.close();
  }
}
