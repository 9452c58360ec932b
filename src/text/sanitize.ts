/**
 * The terminal sanitiser: everything netdoctor prints to a terminal or writes
 * to a text report (text and markdown reports, `bundle inspect`, progress
 * titles, warnings, one-line errors, the nodes table) goes through here, so
 * that text from outside (node names, labels, what a node printed, a bundle's
 * manifest) cannot move the cursor, clear the screen, fake a line or plant a
 * hyperlink. JSON output is never passed through it: it stays exact (JSON
 * escapes control characters itself).
 *
 * Shown escaped, in the form a reader can copy back:
 *   C0 controls except tab and newline (ESC is `\x1b`, CR is `\x0d`), DEL,
 *   C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B), and the Unicode
 *   bidi overrides/isolates (U+202A–U+202E, U+2066–U+2069) that reorder what
 *   the terminal shows.
 * A literal backslash stays as it is: the escaping is for display, not a
 * reversible encoding.
 */

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Control characters shown escaped (`\x1b`); newline and tab kept. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * For values that must stay on one line (a node name, a table cell, a
 * progress title, an error line): newline and tab are escaped too.
 */
export function sanitizeLine(text: string): string {
  return text.replace(CONTROL_OR_NEWLINE, escapeOne);
}

/** Whether `text` holds anything sanitize() would escape. */
export const hasControl = (text: string): boolean => new RegExp(CONTROL.source).test(text);
