// Lookup tables: a CSV, JSON or NDJSON file loaded into a Map by key, reloaded when the file changes,
// and kept as it was when a new version of the file is broken.
import { readFile, stat } from 'node:fs/promises';
import { parseCsv } from './csv.ts';
import { StreamError, StreamErrorCode } from './errors.ts';
import type { DataRecord, LookupFormat } from './steps.ts';

export type TableData = {
  rows: Map<string, DataRecord>;
  /** The columns copied into records: `fields` when given, else every column but the key. */
  columns: string[];
};

/** Something worth telling an operator that does not stop the pipeline, such as a lookup file that became unreadable. */
export type StreamWarning = { dataset: string; step: string; file: string; message: string };

/** The string a key value is compared as; null for values that cannot be a key (objects, arrays, null). */
export function lookupKey(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return null;
}

/** Parses a table file's text; throws an Error that says what is wrong and where. */
export function parseTable(text: string, format: LookupFormat, key: string, fields: readonly string[] | null): TableData & { duplicates: number } {
  const rows = new Map<string, DataRecord>();
  let duplicates = 0;
  const seen = new Set<string>();
  let header: string[] | null = null;
  const add = (row: DataRecord, where: string) => {
    const k = lookupKey(row[key]);
    if (k === null) throw new Error(`${where} has no usable "${key}" (got ${JSON.stringify(row[key]) ?? 'nothing'})`);
    if (rows.has(k)) duplicates++;
    rows.set(k, row);
    for (const c of Object.keys(row)) seen.add(c);
  };
  if (format === 'csv') {
    const [first, ...body] = parseCsv(text);
    if (first === undefined) throw new Error('the file is empty; expected a header row');
    const names = first.fields;
    header = names;
    if (!names.includes(key)) throw new Error(`the header has no "${key}" column; columns: ${names.join(', ')}`);
    for (const r of body) {
      if (r.fields.length !== names.length) throw new Error(`line ${r.line} has ${r.fields.length} fields; the header has ${names.length}`);
      add(Object.fromEntries(names.map((n, i) => [n, r.fields[i]])), `line ${r.line}`);
    }
  } else {
    let items: { value: unknown; where: string }[];
    if (format === 'json') {
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed)) throw new Error('expected a JSON array of objects');
      items = parsed.map((value, i) => ({ value, where: `element ${i}` }));
    } else {
      items = [];
      text.split('\n').forEach((l, i) => {
        if (l.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(l);
        } catch (e) {
          throw new Error(`line ${i + 1}: ${(e as Error).message}`);
        }
        items.push({ value, where: `line ${i + 1}` });
      });
    }
    for (const { value, where } of items) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is not an object`);
      add(value as DataRecord, where);
    }
  }
  const available = header ?? [...seen];
  if (fields !== null) {
    const missing = fields.filter((f) => !available.includes(f));
    if (missing.length > 0) throw new Error(`no ${format === 'csv' ? 'column' : 'row has a property'} ${missing.map((m) => `"${m}"`).join(', ')}; available: ${available.join(', ')}`);
  }
  return { rows, columns: fields === null ? available.filter((c) => c !== key) : [...fields], duplicates };
}

type FileVersion = { mtimeMs: number; size: number; ino: number };
const sameVersion = (a: FileVersion | null, b: FileVersion) => a !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;

export type LookupTableOptions = {
  dataset: string;
  step: string;
  file: string;
  format: LookupFormat;
  key: string;
  fields: readonly string[] | null;
  reloadCheckMs: number;
  now: () => number;
  onWarning: (w: StreamWarning) => void;
};

/** A table that follows its file: checked at most every reloadCheckMs, swapped only for a version that parses. */
export class LookupTable {
  readonly #o: LookupTableOptions;
  #data: TableData | null = null;
  #loaded: FileVersion | null = null;
  /** The last version that failed to parse, so a broken file is reported once, not on every check. */
  #rejected: FileVersion | null = null;
  #lastCheckMs = 0;
  #checking: Promise<void> | null = null;
  #reloads = 0;

  constructor(options: LookupTableOptions) {
    this.#o = options;
  }

  /** Times the table was replaced by a newer version of its file. */
  get reloads(): number {
    return this.#reloads;
  }

  /** Loads the file for the first time; a file that cannot be read or parsed stops the pipeline from starting. */
  async open(): Promise<void> {
    const o = this.#o;
    try {
      const version = await this.#version();
      this.#accept(await this.#read(), version);
    } catch (cause) {
      throw new StreamError(StreamErrorCode.LOOKUP_UNREADABLE, `dataset ${o.dataset}, lookup "${o.step}": cannot load ${o.file}: ${(cause as Error).message}`, {
        cause,
        fields: { dataset: o.dataset, step: o.step, file: o.file },
      });
    }
    this.#lastCheckMs = o.now();
  }

  /** The table to use for the next record when no reload check is due or running (the usual case), else null: then use current(). */
  currentIfChecked(): TableData | null {
    if (this.#checking !== null || this.#o.now() - this.#lastCheckMs >= this.#o.reloadCheckMs) return null;
    return this.#data;
  }

  /** The table to use for the next record, after a reload check when one is due. */
  async current(): Promise<TableData> {
    if (this.#o.now() - this.#lastCheckMs >= this.#o.reloadCheckMs) {
      this.#checking ??= this.#check().finally(() => {
        this.#checking = null;
      });
    }
    if (this.#checking !== null) await this.#checking;
    const data = this.#data;
    if (data === null) throw new Error('invariant violated: lookup table used before open()');
    return data;
  }

  async #check(): Promise<void> {
    const o = this.#o;
    this.#lastCheckMs = o.now();
    let version: FileVersion;
    try {
      version = await this.#version();
    } catch (e) {
      if (this.#rejected === null || this.#rejected.size !== -1) {
        this.#rejected = { mtimeMs: -1, size: -1, ino: -1 };
        o.onWarning({ dataset: o.dataset, step: o.step, file: o.file, message: `cannot read ${o.file} (${(e as Error).message}); still using the table loaded before` });
      }
      return;
    }
    if (sameVersion(this.#loaded, version) || sameVersion(this.#rejected, version)) return;
    try {
      this.#accept(await this.#read(), version);
      this.#reloads++;
    } catch (e) {
      this.#rejected = version;
      o.onWarning({ dataset: o.dataset, step: o.step, file: o.file, message: `${o.file} changed but cannot be used: ${(e as Error).message}; still using the table loaded before` });
    }
  }

  async #version(): Promise<FileVersion> {
    const s = await stat(this.#o.file);
    return { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino };
  }

  async #read(): Promise<TableData & { duplicates: number }> {
    const o = this.#o;
    return parseTable(await readFile(o.file, 'utf8'), o.format, o.key, o.fields);
  }

  #accept(table: TableData & { duplicates: number }, version: FileVersion): void {
    const o = this.#o;
    this.#data = { rows: table.rows, columns: table.columns };
    this.#loaded = version;
    this.#rejected = null;
    if (table.duplicates > 0) {
      o.onWarning({ dataset: o.dataset, step: o.step, file: o.file, message: `${o.file} has ${table.duplicates} repeated key${table.duplicates === 1 ? '' : 's'}; the last row of each wins` });
    }
  }
}
