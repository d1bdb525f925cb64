/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) as PostgreSQL applies it to SCRAM
 * passwords (src/common/saslprep.c, https://www.postgresql.org/docs/current/sasl-authentication.html#SASL-SCRAM-SHA-256).
 *
 * PostgreSQL never refuses a password here: an ASCII password is used as is, and a password that
 * SASLprep would reject (prohibited or unassigned code points, a bidi violation, empty after mapping)
 * is used as its raw UTF-8 bytes. Our agent tokens are ASCII, so for them this is the identity; the
 * rest matters for non-ASCII upstream passwords.
 *
 * Two approximations, both only for passwords PostgreSQL would end up using raw: "unassigned"
 * (table A.1, Unicode 3.2) is today's unassigned (\p{Cn}) plus every supplementary-plane code point
 * outside the blocks Unicode 3.2 had (so emoji count as unassigned, as in PostgreSQL), but BMP
 * characters added after 3.2 count as assigned; and bidi class L (table D.2) is approximated by
 * letters and spacing marks outside the right-to-left ranges of table D.1.
 */

// C.1.2 non-ASCII space characters: mapped to U+0020.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
// B.1 commonly mapped to nothing (U+200B is taken by the space mapping first, as in saslprep.c).
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
// C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9 and unassigned code points.
const PROHIBITED = new RegExp(
  [
    '[\\u00A0\\u1680\\u2000-\\u200B\\u202F\\u205F\\u3000]', // C.1.2
    '[\\u0000-\\u001F\\u007F]', // C.2.1
    '[\\u0080-\\u009F\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}]', // C.2.2
    '[\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}]', // C.3
    '[\\uFDD0-\\uFDEF]|\\p{Noncharacter_Code_Point}', // C.4
    '\\p{Cs}', // C.5 (lone surrogates in a JS string)
    '[\\uFFF9-\\uFFFD]', // C.6
    '[\\u2FF0-\\u2FFB]', // C.7
    '[\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E]', // C.8
    '[\\u{E0001}\\u{E0020}-\\u{E007F}]', // C.9
    '\\p{Cn}', // A.1, approximated
    '(?![\\u{10300}-\\u{1034A}\\u{10400}-\\u{1044D}\\u{1D000}-\\u{1D1DD}\\u{1D400}-\\u{1D7FF}\\u{20000}-\\u{2A6D6}\\u{2F800}-\\u{2FA1D}\\u{E0001}\\u{E0020}-\\u{E007F}])[\\u{10000}-\\u{10FFFF}]', // A.1 beyond the BMP
  ].join('|'),
  'u',
);
// D.1 characters with bidi property R or AL.
const RAND_AL_CAT =
  /[\u05BE\u05C0\u05C3\u05D0-\u05EA\u05F0-\u05F4\u061B\u061F\u0621-\u063A\u0640-\u064A\u066D-\u066F\u0671-\u06D5\u06DD\u06E5\u06E6\u06FA-\u06FE\u0700-\u070D\u0710\u0712-\u072C\u0780-\u07A5\u07B1\u200F\uFB1D\uFB1F-\uFB28\uFB2A-\uFB36\uFB38-\uFB3C\uFB3E\uFB40\uFB41\uFB43\uFB44\uFB46-\uFBB1\uFBD3-\uFD3D\uFD50-\uFD8F\uFD92-\uFDC7\uFDF0-\uFDFC\uFE70-\uFE74\uFE76-\uFEFC]/u;
const RTL_SCRIPT = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const LETTER_LIKE = /[\p{L}\p{Mc}]/u;

/** The password bytes PostgreSQL's SCRAM uses for `password`. */
export function saslprep(password: string): string {
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  if (mapped === '') return password;
  const normalized = mapped.normalize('NFKC');
  if (PROHIBITED.test(normalized)) return password;
  return bidiAcceptable(normalized) ? normalized : password;
}

/** RFC 3454 section 6: a string with any RandALCat has no LCat and starts and ends with RandALCat. */
function bidiAcceptable(text: string): boolean {
  const chars = [...text];
  if (!chars.some((char) => RAND_AL_CAT.test(char))) return true;
  if (chars.some((char) => LETTER_LIKE.test(char) && !RAND_AL_CAT.test(char) && !RTL_SCRIPT.test(char))) return false;
  return RAND_AL_CAT.test(chars[0] as string) && RAND_AL_CAT.test(chars[chars.length - 1] as string);
}
