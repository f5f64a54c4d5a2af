// Which parameter names PHP (parse_str, $_GET) and every Magento version read back as written. A name that fails
// here would be signed as one thing and verified as another, on every signing profile.
import { QueryError } from './errors.js';

const PROTOCOL_NAME = /oauth_[a-z_-]+/; // Magento's Request::_isProtocolParameter(), matched anywhere in the name
const BRACKETED = /^[^[\]]+(?:\[[^[\]]*\])+$/;

/**
 * Throws QueryError unless PHP (parse_str, $_GET) and every Magento version read `name` back as this very name:
 * - not empty;
 * - no `oauth_...` anywhere in it: Magento 2.4.4–2.4.7 drop such query parameters from the signature, the current code
 *   keeps them, so no signature satisfies both;
 * - brackets well formed (`a[b][0]`, `a[]`): parse_str turns a stray `[` into `_` and ignores text after the last `]`;
 * - no space or `.` before the first `[`: parse_str turns them into `_` (and the current Magento code then signs both
 *   spellings);
 * - not an integer before the first `[` ("9", "-1"): PHP stores it as an integer key, which the current Magento code
 *   renumbers when it merges the query into the parameters;
 * - in a form body, no brackets at all: Magento reads the body with parse_str, gets an array, and cannot sign it.
 */
export function assertReadableName(name: string, where: 'query' | 'form'): void {
  if (name === '') {
    throw new QueryError('invalid_parameter_name', `a ${where} parameter has an empty name; give it a name or leave it out`);
  }
  if (PROTOCOL_NAME.test(name)) {
    throw new QueryError(
      'reserved_parameter_name',
      `${where} parameter ${JSON.stringify(name)} looks like an OAuth protocol parameter (oauth_...); Magento versions ` +
        `disagree on whether to sign it, so it cannot be sent. Rename it`,
    );
  }
  const bracket = name.indexOf('[');
  if (bracket !== -1 || name.includes(']')) {
    if (where === 'form') {
      throw new QueryError(
        'invalid_parameter_name',
        `form field ${JSON.stringify(name)} has brackets; Magento reads form bodies into nested arrays it cannot sign. ` +
          `Send nested data as JSON, or as a query parameter`,
      );
    }
    if (bracket !== -1 && !BRACKETED.test(name)) {
      throw new QueryError(
        'invalid_parameter_name',
        `query parameter ${JSON.stringify(name)} has unbalanced brackets or text after the last "]"; PHP would read ` +
          `it as a different name. Use the form name[key][key]`,
      );
    }
  }
  const base = bracket === -1 ? name : name.slice(0, bracket);
  if (isPhpIntegerKey(base)) {
    throw new QueryError(
      'invalid_parameter_name',
      `${where} parameter ${JSON.stringify(name)} is named with an integer; PHP makes that an integer array key, which ` +
        `the current Magento code renumbers (array_merge) before signing. Use a name that is not a number`,
    );
  }
  if (base.includes(' ') || base.includes('.')) {
    throw new QueryError(
      'invalid_parameter_name',
      `${where} parameter ${JSON.stringify(name)} has a space or "." in its name; PHP turns those into "_", so Magento ` +
        `would read (and sign) a different name. Rename it`,
    );
  }
}

const PHP_INT_MAX = 9223372036854775807n;

/** Whether PHP turns the array key `s` into an integer: canonical decimal within the 64-bit range ("-0" stays a string). */
function isPhpIntegerKey(s: string): boolean {
  if (!/^(?:0|-?[1-9][0-9]*)$/.test(s)) return false;
  const n = BigInt(s);
  return n <= PHP_INT_MAX && n >= -PHP_INT_MAX - 1n;
}

// PHP reads `a=1&a[b]=2` as one variable `a` (the later spelling wins), and the current Magento code then drops `a`
// from the signature while 2.4.4–2.4.7 keep it.
export function assertNoFlatBaseClash(names: ReadonlySet<string>): void {
  for (const name of names) {
    const bracket = name.indexOf('[');
    if (bracket > 0 && names.has(name.slice(0, bracket))) {
      throw new QueryError(
        'invalid_parameter_name',
        `parameters ${JSON.stringify(name.slice(0, bracket))} and ${JSON.stringify(name)} are the same PHP variable; ` +
          `send one of them`,
      );
    }
  }
}
