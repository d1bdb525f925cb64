/**
 * Personal data recognised by shape: email addresses, payment card numbers (Luhn-checked) and US
 * social security numbers. Each finder scans by hand from an anchor character (`@`, a digit), so
 * the cost is linear with no regex backtracking, and returns [start, end) pairs.
 */

type Found = Array<[number, number]>;

const LOCAL_MAX = 64;
const DOMAIN_MAX = 253;

function isLocalChar(c: number): boolean {
  // RFC 5322 dot-atom characters commonly seen in addresses: letters, digits, . _ % + - '
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 39;
}

function isDomainChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** `name@host.tld`: a dotted domain whose last label has at least two letters. */
export function findEmails(text: string): Found {
  const found: Found = [];
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > 0 && at - start < LOCAL_MAX && isLocalChar(text.charCodeAt(start - 1))) start -= 1;
    // A local part does not start with a dot, and a leading apostrophe is a SQL or prose quote.
    while (start < at && (text.charCodeAt(start) === 46 || text.charCodeAt(start) === 39)) start += 1;
    let end = at + 1;
    while (end < text.length && end - at <= DOMAIN_MAX && isDomainChar(text.charCodeAt(end))) end += 1;
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end -= 1; // sentence-ending dot
    if (start < at && validDomain(text, at + 1, end)) found.push([start, end]);
    at = text.indexOf('@', Math.max(end, at + 1));
  }
  return found;
}

function validDomain(text: string, start: number, end: number): boolean {
  const lastDot = text.lastIndexOf('.', end - 1);
  if (lastDot <= start || end - lastDot - 1 < 2) return false;
  for (let i = lastDot + 1; i < end; i += 1) if (!isLetter(text.charCodeAt(i))) return false;
  const first = text.charCodeAt(start);
  if (first === 46 || first === 45) return false;
  const doubleDot = text.indexOf('..', start);
  return doubleDot === -1 || doubleDot >= end;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The Luhn (mod 10) checksum over the digits of `digits`. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Card numbers: 13–19 digits, contiguous or in groups of 3+ separated by one space or dash, not
 * part of a longer number, starting with an issuer digit (2–6), Luhn-valid and not one repeated
 * digit. A run of digits is judged whole: no sliding window, which would find a Luhn-valid
 * substring in one of every ten long numbers.
 */
export function findCardNumbers(text: string): Found {
  const found: Found = [];
  forEachDigitRun(text, (start, end, digits, groups) => {
    if (digits.length < 13 || digits.length > 19) return;
    if (groups.length > 1 && groups.some((g) => g < 3)) return;
    const first = digits.charCodeAt(0);
    if (first < 50 || first > 54) return; // 2..6: Mastercard, Visa, Amex/Diners/JCB, Discover/UnionPay
    if (/^(\d)\1+$/.test(digits) || !passesLuhn(digits)) return;
    found.push([start, end]);
  });
  return found;
}

/** US SSN `AAA-GG-SSSS` (or with spaces): area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function findSsns(text: string): Found {
  const found: Found = [];
  forEachDigitRun(text, (start, end, digits, groups, separator) => {
    if (digits.length !== 9 || groups.length !== 3 || groups[0] !== 3 || groups[1] !== 2 || groups[2] !== 4 || separator === 0) return;
    const area = Number(digits.slice(0, 3));
    if (area === 0 || area === 666 || area >= 900) return;
    if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return;
    found.push([start, end]);
  });
  return found;
}

/**
 * Calls `visit` for each maximal run of digit groups joined by single spaces or dashes (one kind
 * per run), bounded by non-alphanumerics. `separator` is the joining character code, 0 if none.
 */
function forEachDigitRun(
  text: string,
  visit: (start: number, end: number, digits: string, groups: number[], separator: number) => void,
): void {
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i += 1;
      continue;
    }
    const start = i;
    let digits = '';
    const groups: number[] = [];
    let separator = 0;
    let groupLength = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isDigit(c)) {
        digits += text[i];
        groupLength += 1;
        i += 1;
        continue;
      }
      const next = text.charCodeAt(i + 1);
      if ((c === 32 || c === 45) && (separator === 0 || separator === c) && isDigit(next) && digits.length < 24) {
        separator = c;
        groups.push(groupLength);
        groupLength = 0;
        i += 1;
        continue;
      }
      break;
    }
    groups.push(groupLength);
    const before = start > 0 ? text.charCodeAt(start - 1) : 32;
    const after = i < n ? text.charCodeAt(i) : 32;
    if (!isLetter(before) && !isLetter(after) && before !== 46 && !(after === 46 && isDigit(text.charCodeAt(i + 1)))) {
      visit(start, i, digits, groups, separator);
    }
  }
}
