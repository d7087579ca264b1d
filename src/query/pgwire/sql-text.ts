// Reading SQL text without parsing it: split a simple query into statements, count $n parameters, find the first
// keyword. One scanner knows where strings, quoted identifiers, dollar quotes and comments begin and end.

type Visit = {
  /** Called for each character outside strings, identifiers and comments. */
  code: (i: number) => void;
};

/**
 * Walks `sql`, calling `visit.code` at each index that is outside a quoted or commented region. Unterminated quotes and
 * comments run to the end of the text (the executor reports the syntax error).
 */
function scan(sql: string, visit: Visit): void {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      // E'...' strings take backslash escapes; standard strings only double the quote.
      const prev = i > 0 ? sql[i - 1]! : '';
      const escapes = (prev === 'E' || prev === 'e') && !isIdentChar(i >= 2 ? sql[i - 2]! : '');
      i = skipQuoted(sql, i + 1, "'", escapes);
    } else if (c === '"') {
      i = skipQuoted(sql, i + 1, '"', false);
    } else if (c === '$' && !isIdentChar(i > 0 ? sql[i - 1]! : '')) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
      } else {
        visit.code(i);
        i++;
      }
    } else {
      visit.code(i);
      i++;
    }
  }
}

function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function isIdentChar(c: string): boolean {
  return /[A-Za-z0-9_\u0080-\uffff]/.test(c);
}

/**
 * Splits a simple-query string at the semicolons outside quotes and comments. Statements keep their text (comments
 * included) but lose surrounding whitespace; statements with nothing but whitespace and comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let hasCode = false;
  scan(sql, {
    code: (i) => {
      const c = sql[i]!;
      if (c === ';') {
        if (hasCode) out.push(sql.slice(start, i).trim());
        start = i + 1;
        hasCode = false;
      } else if (!/\s/.test(c)) hasCode = true;
    },
  });
  if (hasCode) out.push(sql.slice(start).trim());
  return out;
}

/** The highest $n placeholder in the statement, i.e. how many parameters it takes. */
export function countParameters(sql: string): number {
  let max = 0;
  scan(sql, {
    code: (i) => {
      if (sql[i] !== '$') return;
      const m = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (m) max = Math.max(max, Number(m[1]));
    },
  });
  return max;
}

/** The first word of code in the statement, upper-cased (`SELECT`, `WITH`, `SET`), or '' for none. */
export function firstKeyword(sql: string): string {
  let word = '';
  let done = false;
  scan(sql, {
    code: (i) => {
      if (done) return;
      const c = sql[i]!;
      if (/[A-Za-z_]/.test(c)) word += c;
      else if (word !== '' || !/\s|\(/.test(c)) done = true;
    },
  });
  return word.toUpperCase();
}
