import { hashPassword, verifyPassword } from './crypto';
import type { Store } from './store';
import { DEFAULT_STRATEGY } from './store/strategies';

export const DEFAULT_ADMIN = { name: 'admin', password: 'test1234' } as const;

/**
 * First start: the `Default` user group and the administrator `admin` / `test1234`, as in Pro.
 * Every start: a warning while that default password still works.
 */
export async function bootstrap(store: Store, log: (line: string) => void): Promise<void> {
  if (!(await store.users.getGroupByName('Default')))
    await store.users.createGroup('Default', 'Every user starts here');
  if (!(await store.strategies.getByName(DEFAULT_STRATEGY)))
    await store.strategies.create(DEFAULT_STRATEGY, {});
  if ((await store.users.countAll()) === 0) {
    const group = (await store.users.getGroupByName('Default'))!;
    await store.users.create({
      name: DEFAULT_ADMIN.name,
      password_hash: await hashPassword(DEFAULT_ADMIN.password),
      group_guid: group.guid,
      status: 1,
      is_admin: true,
      note: 'Created on first start',
    });
    log(`created the administrator '${DEFAULT_ADMIN.name}' with the default password`);
  }
  const admin = await store.users.getByName(DEFAULT_ADMIN.name);
  if (admin?.is_admin && (await verifyPassword(DEFAULT_ADMIN.password, admin.password_hash))) {
    log(
      `WARNING: the administrator '${DEFAULT_ADMIN.name}' still has the default password: change it, or create another administrator and delete this one`,
    );
  }
}
