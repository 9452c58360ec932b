/**
 * Secret shapes netdoctor must never carry, as one list of rules used twice:
 *  - on the node, by `sed -E` over dockerd's log, daemon.json, `docker info`
 *    dockerd's command line and unit lines before anything leaves the node
 *    (collect/script.ts builds its sed program with `nodeSedArgs()`, so a
 *    rule added here is applied there too);
 *  - in the bundle's last safety net: every file is scanned once more before
 *    it is written (`scrubText` / `scrubJson` / `scrubFile`), so a secret an
 *    upstream redaction missed is still cut, counted, and reported.
 *
 * Collection keeps secrets out in the first place (keys cut on the node,
 * join tokens dropped, env values and logging-driver options redacted in the
 * manager's API answers); this only removes what would have leaked.
 *
 * Every pattern is linear: each alternation is decided by its first one or
 * two characters (no nested quantifier can match the same text two ways),
 * key names are bounded, and in the bundle scan an array or object that
 * does not parse takes the rest of its line at once (see `Rule.cut`). JSON
 * strings are matched as JSON strings, so a `]` or `}` inside a value never
 * ends an array or object early. JSON is matched in two forms:
 * as is (`"Env":["A=1"]`) and escaped inside a quoted string, the way
 * dockerd's text log prints request bodies (`msg="form data: {\"Env\":[\"A=1\"]}"`).
 */

/**
 * Word stems of key names (JSON keys, labels, log-opt names) whose values
 * are secrets; a name that is `key`, or ends in `-key`, `_key`, `.key`
 * (`ssh-key`, `api_key`), is one too. `CertIssuerPublicKey` and the like are not.
 */
export const SECRET_KEY_WORDS = [
  'token',
  'secret',
  'passw',
  'pwd',
  'credential',
  'apikey',
  'privatekey',
  'accesskey',
  'signingcakey',
  'unlockkey',
  'encryptionkey',
] as const;

/** A key name that holds a secret (case-insensitive). */
export function isSecretKeyName(key: string): boolean {
  const k = key.toLowerCase();
  if (SECRET_KEY_WORDS.some((w) => k.includes(w))) return true;
  return /(^|[_.-])keys?$/.test(k) && !/public[_.-]?keys?$/.test(k);
}

/** Keys whose whole value (every string under them) is logging-driver configuration. */
const LOG_OPTION_KEYS = new Set(['log-opts']);
/** Objects describing a logging driver: every member but the driver's name is options. */
const LOG_DRIVER_KEYS = new Map([
  ['LogDriver', 'Name'],
  ['LogConfig', 'Type'],
]);
/**
 * Maps keyed by option or label names chosen by users: there a key that
 * names a secret hides its value. (Elsewhere keys are names of things,
 * such as services or sections, and a service called "api-key" must keep
 * its addresses.)
 */
const NAMED_OPTION_MAPS = new Set(['Labels', 'Options', 'DriverOpts', 'Config', 'log-opts', 'proxies']);
/** Engine API and daemon.json fields that are secrets wherever they appear. */
const SECRET_FIELDS = new Set(['JoinTokens', 'SigningCAKey', 'UnlockKey', 'Password', 'IdentityToken', 'RegistryToken', 'Secret']);

export const REDACTED = '<redacted>';

// ---------------------------------------------------------------------------
// Patterns, written once in a syntax both POSIX ERE (GNU and busybox sed) and
// JavaScript read the same way: no `\s`/`\d`, literal braces as `[{]`/`[}]`,
// a literal `]` only outside brackets or as the first member of `[^]…]`
// (written `[^]…]` here and turned into `[^\]…]` for JavaScript).

const ci = (w: string): string => [...w].map((c) => (/[a-z]/.test(c) ? `[${c.toUpperCase()}${c}]` : c)).join('');
const SP = '[ \t]*';
/** A JSON string as is: `"…"` with backslash escapes. */
const STR0 = String.raw`"([^"\\]|\\.)*"`;
/**
 * A JSON string escaped once more inside a quoted string: `\"…\"`, where a
 * plain character is itself, `\x` is an escaped character, and `\\` followed
 * by one of those is a JSON escape.
 */
const STR1 = String.raw`\\"([^"\\]|\\[^"\\]|\\\\\\["\\]|\\\\[^"\\])*\\"`;
const FORMS = [
  { q: '"', str: STR0, outside: '"' },
  { q: String.raw`\\"`, str: STR1, outside: String.raw`"\\` },
];
/** The run of key-name characters on either side of a secret word, bounded so each attempt costs a constant. */
const KEY_RUN_BOUNDED = '[A-Za-z0-9_.-]{0,60}';
/** A key naming a secret; bounded (60 characters around the word) so each attempt costs a constant. */
const KEYNAME = `(${KEY_RUN_BOUNDED}(${SECRET_KEY_WORDS.map(ci).join('|')})${KEY_RUN_BOUNDED}|(${KEY_RUN_BOUNDED}[_.-])?${ci('key')}[Ss]?)`;

interface Rule {
  name: string;
  /** POSIX ERE; `jsSource` turns it into JavaScript. */
  ere: string;
  /** Literal replacement text; `$1` is the first group. */
  to: string;
  /**
   * For a rule `(prefix)body` whose body is a JSON array or object: in the
   * bundle scan, a body that does not parse takes the rest of its line with
   * it (replaced by `$1` and this). One attempt either matches or ends the
   * line, so the scan stays linear however many starts a line holds.
   */
  cut?: { prefix: string; body: string; open: string; to: string };
}

const cutRule = (name: string, prefix: string, open: string, body: string, to: string, cutTo: string): Rule => ({
  name,
  ere: `(${prefix})${open}${body}`,
  to,
  cut: { prefix, body: `${open}${body}`, open, to: cutTo },
});

const jsonRules = (): Rule[] =>
  FORMS.flatMap(({ q, str, outside }) => {
    const key = (k: string) => `${q}${k}${q}${SP}:${SP}`;
    const obj = `([^}${outside}]|${str})*[}]`;
    const lq = q === '"' ? '"' : '\\"';
    const redStr = `${lq}${REDACTED}${lq}`;
    const redObj = `{${redStr}:${redStr}}`;
    const restOfLine = (open: string, close: string) => `$1${open}${REDACTED}: rest of line${close}`;
    const options = (driver: string, name: string, opts: string) => `${key(driver)}[{](${SP}${key(name)}${str}${SP},)?${SP}${key(opts)}`;
    return [
      cutRule('environment values', key('Env'), '\\[', `([^]${outside}]|${str})*]`, `$1[${redStr}]`, restOfLine('[', ']')),
      cutRule('logging-driver options', options('LogDriver', 'Name', 'Options'), '[{]', obj, `$1${redObj}`, restOfLine('{', '}')),
      cutRule('logging-driver options', options('LogConfig', 'Type', 'Config'), '[{]', obj, `$1${redObj}`, restOfLine('{', '}')),
      cutRule('logging-driver options', key('log-opts'), '[{]', obj, `$1${redObj}`, restOfLine('{', '}')),
      { name: 'secret-named value', ere: `(${q}${KEYNAME}${q}${SP}:${SP})${str}`, to: `$1${redStr}` },
    ];
  });

/** The rules, in order. The fallbacks after the JSON rules catch what those could not read. */
export const RULES: Rule[] = [
  { name: 'hex key', ere: '0x[0-9a-fA-F]{16,}', to: REDACTED },
  { name: 'byte-list key', ere: '\\[[0-9]{1,3}( [0-9]{1,3}){15,}]', to: `[${REDACTED}]` },
  { name: 'swarm token or unlock key', ere: 'SWM(TKN|KEY)-[0-9A-Za-z+=-]+', to: `SWM$1-${REDACTED}` },
  ...jsonRules(),
  // An Env array the JSON rules could not read (cut short, escaped twice…):
  // everything after its start goes. (Logging options need no such net:
  // their secret-named values and URL credentials are cut one by one below.)
  {
    name: 'environment values',
    ere: `([\\\\"]Env\\\\*"${SP}:${SP}\\[)([^<"\\\\]|<[^r]|"[^<]|\\\\[^"]|\\\\"[^<]).*`,
    to: `$1${REDACTED}: rest of line]`,
  },
  // dockerd's command line and ExecStart lines: --log-opt k=v, --log-opt=k=v.
  { name: 'logging-driver options', ere: '(--log-opt[= ]+[^= \t"]*=)[^ \t"]+', to: `$1${REDACTED}` },
  // The user part holds no ':', so a long run without '@' is read once.
  { name: 'URL credentials', ere: '(://)[^/@: \t"\'\\\\]+:[^/@ \t"\'\\\\]*@', to: `$1${REDACTED}@` },
];

/**
 * The node-side `sed -E` arguments: one `-e 's#…#…#g'` per rule, each
 * single-quoted for sh. The key-name runs of KEYNAME are unbounded here
 * (`*`): glibc's regex compiles `{0,60}` into sixty copies of the class,
 * and those made most of a collection's redaction cost (per sed: 7 ms to
 * compile, 20 ms over `docker info`'s 10 KB, against 3.5 and 4 ms). glibc
 * does not backtrack, and each attempt ends at the key's closing quote, so
 * the cost stays linear; the unbounded form cuts a superset (names longer
 * than the bound too). The bundle's scan in JavaScript keeps the bound:
 * V8 backtracks.
 */
export function nodeSedArgs(): string {
  return RULES.map((r) => {
    const ere = r.ere.split(KEY_RUN_BOUNDED).join('[A-Za-z0-9_.-]*');
    const to = r.to.replace(/\\/g, '\\\\').replace(/&/g, '\\&').replace(/#/g, '\\#').replace(/\$1/g, '\\1');
    const expr = `s#${ere.replace(/#/g, '\\#')}#${to}#g`;
    return `-e '${expr.replace(/'/g, `'\\''`)}'`;
  }).join(' ');
}

/**
 * ERE → JavaScript: `[^]…]` → `[^\]…]`, and no negated class crosses a
 * newline (each line is matched on its own, as sed does).
 */
const jsSource = (ere: string): string =>
  ere
    .replace(/\[\^\]/g, '[^\\]')
    .replace(/\[\^/g, '[^\\n')
    .replace(/\.\*/g, '[^\\n]*');

interface JsRule {
  name: string;
  re: RegExp;
  to: string;
  /** Replacement when the `rest` group matched (see Rule.cut). */
  cutTo?: string;
}

const JS_RULES: JsRule[] = [
  ...RULES.map((r): JsRule =>
    r.cut
      ? {
          name: r.name,
          re: new RegExp(`(${jsSource(r.cut.prefix)})(?:${jsSource(r.cut.body)}|(?<rest>${jsSource(r.cut.open)}[ \t]*[^ \t\n][^\n]*))`, 'g'),
          to: r.to,
          cutTo: r.cut.to,
        }
      : { name: r.name, re: new RegExp(jsSource(r.ere), 'g'), to: r.to },
  ),
  { name: 'private key', re: /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, to: '<redacted private key>' },
];

export interface ScrubResult {
  text: string;
  /** Hits by rule name. */
  hits: Record<string, number>;
}

const count = (hits: Record<string, number>, name: string) => {
  hits[name] = (hits[name] ?? 0) + 1;
};

/** Text with every secret shape cut; `hits` counts what was cut (what was already redacted is not counted). */
export function scrubText(text: string, hits: Record<string, number> = {}): ScrubResult {
  let out = text;
  for (const r of JS_RULES) {
    if (!r.re.test(out)) continue;
    r.re.lastIndex = 0;
    out = out.replace(r.re, (...m: unknown[]) => {
      const match = m[0] as string;
      const groups = m[m.length - 1] as Record<string, string | undefined> | string;
      const cut = typeof groups === 'object' && groups.rest !== undefined && r.cutTo !== undefined;
      const to = (cut ? r.cutTo! : r.to).replace(/\$1/g, () => (typeof m[1] === 'string' ? m[1] : ''));
      if (to !== match) count(hits, r.name);
      return to;
    });
  }
  return { text: out, hits };
}

/**
 * Every string of a JSON value scrubbed as text, and by key: every string
 * under `log-opts` or a logging driver's options (`LogDriver.Options` of
 * services, previous specs, tasks and swarm TaskDefaults; a container's
 * `LogConfig.Config`), every value of `Env` (names kept), and, in label
 * and option maps, every value whose key names a secret (token, secret,
 * password, key, credential…) becomes `<redacted>`.
 */
export function scrubJson<T>(value: T, hits: Record<string, number> = {}): { value: T; hits: Record<string, number> } {
  return { value: redactJson(value, hits, { text: true }) as T, hits };
}

export interface RedactJsonOptions {
  /** Also the text rules on every string. */
  text?: boolean;
  /** Every key names an option (a config file such as daemon.json): secret-named keys anywhere. */
  config?: boolean;
}

/** The key-based part of `scrubJson`; a string that is itself JSON is redacted as JSON. */
export function redactJson(value: unknown, hits: Record<string, number> = {}, o: RedactJsonOptions = {}): unknown {
  const all = (v: unknown, why: string): unknown => {
    if (typeof v === 'string') {
      if (v === '' || v === REDACTED) return v;
      count(hits, why);
      return REDACTED;
    }
    if (Array.isArray(v)) return v.map((x) => all(x, why));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, all(x, why)]));
    return v;
  };
  const env = (v: unknown): unknown => {
    if (!Array.isArray(v)) return walk(v, false);
    return v.map((e) => {
      if (typeof e !== 'string') return all(e, 'environment values');
      const eq = e.indexOf('=');
      const name = eq < 0 ? e : e.slice(0, eq);
      if (eq < 0 || e.slice(eq + 1) === REDACTED) return e;
      count(hits, 'environment values');
      return `${name}=${REDACTED}`;
    });
  };
  const walk = (v: unknown, named: boolean): unknown => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const keep = LOG_DRIVER_KEYS.get(k);
        if (LOG_OPTION_KEYS.has(k)) out[k] = all(x, 'logging-driver options');
        else if (keep !== undefined && x && typeof x === 'object' && !Array.isArray(x)) {
          out[k] = Object.fromEntries(
            Object.entries(x as Record<string, unknown>).map(([dk, dv]) => [dk, dk === keep ? walk(dv, false) : all(dv, 'logging-driver options')]),
          );
        } else if (k === 'Env') out[k] = env(x);
        else if (SECRET_FIELDS.has(k) || ((named || o.config) && isSecretKeyName(k))) out[k] = all(x, 'secret-named value');
        else out[k] = walk(x, NAMED_OPTION_MAPS.has(k));
      }
      return out;
    }
    return v;
  };
  /** A string that holds a JSON object (docker info, daemon.json as collected): redacted as JSON, re-printed only when something was cut. */
  const str = (s: string): string => {
    let t = s;
    const trimmed = s.trim();
    if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
      try {
        const parsed = JSON.parse(trimmed) as unknown;
        const before = total(hits);
        const red = walk(parsed, false);
        if (total(hits) !== before) t = `${JSON.stringify(red, null, trimmed.includes('\n') ? 2 : undefined)}\n`;
      } catch {
        // Not JSON: text rules only.
      }
    }
    return o.text ? scrubText(t, hits).text : t;
  };
  return walk(value, false);
}

const total = (hits: Record<string, number>): number => Object.values(hits).reduce((a, b) => a + b, 0);

/**
 * One file of the bundle, as bytes, scanned last: JSON by key and as text,
 * anything else as text (a text file holding a JSON object, such as
 * daemon.json or `docker info`, by key too). Returns the same bytes when
 * nothing was cut.
 */
export function scrubFile(path: string, data: Buffer, hits: Record<string, number> = {}): Buffer {
  const before = total(hits);
  const text = data.toString('utf8');
  let out: string;
  if (path.endsWith('.json')) {
    try {
      out = `${JSON.stringify(redactJson(JSON.parse(text) as unknown, hits, { text: true }), null, 2)}\n`;
    } catch {
      out = scrubText(text, hits).text;
    }
  } else {
    out = redactJson(text, hits, { text: true, config: /daemon-json\.txt$/.test(path) }) as string;
  }
  return total(hits) === before ? data : Buffer.from(out);
}
