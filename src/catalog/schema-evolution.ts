// The compatibility rule for a table's schema: existing columns stay as they are; only new nullable columns are added.
import { CatalogError, CatalogErrorCode } from './errors.ts';
import type { CatalogColumn } from './store.ts';

export type SchemaChange =
  | { kind: 'same' }
  /** The next version: the current columns in their order (nullability relaxed where asked), then the new ones. */
  | { kind: 'evolved'; columns: CatalogColumn[] };

type Problem = { column: string; reason: 'type-changed' | 'removed' | 'new-not-nullable' | 'became-not-nullable' | 'duplicate'; text: string };

function sameType(a: string, b: string): boolean {
  return a.trim().toUpperCase() === b.trim().toUpperCase();
}

/** Checks a column list on its own: names are non-empty and appear once, types are non-empty. */
export function checkColumns(table: string, columns: readonly CatalogColumn[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (c.name === '' || c.type.trim() === '' || seen.has(c.name)) {
      const why = seen.has(c.name) ? 'appears twice' : c.name === '' ? 'has an empty name' : 'has an empty type';
      throw new CatalogError(CatalogErrorCode.INCOMPATIBLE_SCHEMA, `table ${table}: column "${c.name}" ${why}`, { fields: { table, column: c.name, reason: 'invalid' } });
    }
    seen.add(c.name);
  }
}

/** Compares the current columns with the wanted ones; throws INCOMPATIBLE_SCHEMA naming each column and why. */
export function evolveColumns(table: string, current: readonly CatalogColumn[], wanted: readonly CatalogColumn[]): SchemaChange {
  checkColumns(table, wanted);
  const byName = new Map(wanted.map((c) => [c.name, c]));
  const problems: Problem[] = [];
  let changed = false;
  const kept: CatalogColumn[] = [];
  for (const old of current) {
    const next = byName.get(old.name);
    if (next === undefined) {
      problems.push({ column: old.name, reason: 'removed', text: `column "${old.name}" (${old.type}) is removed` });
      continue;
    }
    if (!sameType(old.type, next.type)) {
      problems.push({ column: old.name, reason: 'type-changed', text: `column "${old.name}" changes type from ${old.type} to ${next.type}` });
    } else if (old.nullable && !next.nullable) {
      // Files already registered may hold nulls in it.
      problems.push({ column: old.name, reason: 'became-not-nullable', text: `column "${old.name}" becomes not nullable` });
    }
    if (!old.nullable && next.nullable) changed = true;
    kept.push({ name: old.name, type: old.type, nullable: old.nullable || next.nullable });
  }
  const known = new Set(current.map((c) => c.name));
  const added = wanted.filter((c) => !known.has(c.name));
  for (const c of added) {
    if (!c.nullable) problems.push({ column: c.name, reason: 'new-not-nullable', text: `new column "${c.name}" (${c.type}) is not nullable` });
  }
  if (problems.length > 0) {
    throw new CatalogError(CatalogErrorCode.INCOMPATIBLE_SCHEMA, `table ${table}: ${problems.map((p) => p.text).join('; ')}; only new nullable columns can be added`, {
      fields: { table, column: problems[0]!.column, reason: problems[0]!.reason, problems: problems.map(({ column, reason }) => ({ column, reason })) },
    });
  }
  if (!changed && added.length === 0) return { kind: 'same' };
  return { kind: 'evolved', columns: [...kept, ...added.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }))] };
}
