// openCatalog: the URL picks the backend — a file path or sqlite:path (SQLite), postgres:// or postgresql:// (PostgreSQL).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PostgresCatalog } from './postgres.ts';
import { SqliteCatalog } from './sqlite.ts';
import type { CatalogStore } from './store.ts';

/** Opens the catalog and runs its migrations. */
export async function openCatalog(url: string): Promise<CatalogStore> {
  let catalog: CatalogStore;
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    catalog = await PostgresCatalog.open(parsed.toString(), schema === undefined ? {} : { schema });
  } else {
    const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
    if (file !== ':memory:') await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    catalog = await SqliteCatalog.open(file);
  }
  await catalog.migrate();
  return catalog;
}
