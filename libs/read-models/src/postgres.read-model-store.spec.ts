import {
  describePostgres,
  dropSchema,
  freshSchemaName,
  TEST_DATABASE_URL,
} from '../../event-store/src/contract/postgres.fixture';
import { readModelContract } from './contract/read-model.contract';
import { PostgresReadModelStore } from './postgres.read-model-store';

describePostgres('PostgreSQL read models', () => {
  let schema = freshSchemaName();
  readModelContract(
    'PostgreSQL',
    async () => {
      schema = freshSchemaName();
      return PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema });
    },
    () => dropSchema(schema),
  );

  it('one process at a time holds the projector lock; another takes it over when the holder lets go', async () => {
    schema = freshSchemaName();
    const a = await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema });
    const b = await PostgresReadModelStore.open({ connectionString: TEST_DATABASE_URL, schema });
    const lockA = a.projectorLock(20);
    const lockB = b.projectorLock(20);
    try {
      await expect(lockA.acquire(new AbortController().signal)).resolves.toBe(true);
      // B tries at least once (the first try always runs) and gives up when told: the lock was not free.
      const giveUp = new AbortController();
      const refused = lockB.acquire(giveUp.signal);
      setTimeout(() => giveUp.abort(), 100);
      await expect(refused).resolves.toBe(false);
      await lockA.release();
      await expect(lockB.acquire(new AbortController().signal)).resolves.toBe(true);
    } finally {
      await lockA.release();
      await lockB.release();
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });
});
