// `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded
// Postgres, which must be running: `npm start` runs migrations itself).
import { runMigrations } from './stack/stack';

runMigrations(process.env).then((applied) => {
  console.log(applied.length ? `applied ${applied.length} migration(s)` : 'schema is up to date');
}).catch((error) => { console.error(error.message); process.exit(1); });
