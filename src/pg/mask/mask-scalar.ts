/**
 * Masked values of the non-text scalar types that still parse as their type, in the text format
 * (what the type's input function accepts) and the binary format (what its receive function
 * accepts; see each type's *_send in src/backend/utils/adt). Redact and partial give the type's
 * zero (partial keeps the last four digits of integers, e.g. a card number stored as bigint);
 * hash gives a value derived from the keyed hash, in range for the type.
 */
import { keyedHash } from './mask-text.ts';
import type { StyleContext } from './mask-text.ts';
import type { ValueKind } from './value-kinds.ts';

/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for binary dates and timestamps. */
const PG_EPOCH_DAYS = 10_957;
const MICROS_PER_DAY = 86_400_000_000n;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Kinds handled here; others return undefined so the caller can decide. */
export type ScalarKind = Extract<
  ValueKind,
  'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'numeric' | 'uuid' | 'date' | 'time' | 'timetz' | 'timestamp' | 'timestamptz' | 'interval' | 'char1'
>;

const SCALAR_KINDS = new Set<ValueKind>(['bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'uuid', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'char1']);

export function isScalarKind(kind: ValueKind): kind is ScalarKind {
  return SCALAR_KINDS.has(kind);
}

/** The masked value, as text, of a scalar whose text form is `text`. */
export function maskScalarText(text: string, kind: ScalarKind, ctx: StyleContext): string {
  const h = ctx.style === 'hash' ? keyedHash(ctx.hashKey, text) : null;
  switch (kind) {
    case 'bool':
      return 'f';
    case 'char1':
      return '*';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
      if (h) return kind === 'int2' ? String(h.readUInt32BE(0) % 32768) : kind === 'int4' ? String(h.readUInt32BE(0) & 0x7fffffff) : hashedBigint(h, kind).toString();
      return ctx.style === 'partial' ? lastFourDigits(text) : '0';
    case 'float4':
    case 'float8':
      return h ? String(h.readUInt32BE(0) % 16_777_216) : '0';
    case 'uuid':
      if (h) return formatUuid(h.subarray(0, 16));
      return ctx.style === 'partial' && /^[0-9a-f-]{36}$/i.test(text) ? ZERO_UUID.slice(0, 32) + text.slice(-4) : ZERO_UUID;
    case 'date':
      return isoDate(h ? hashedDays(h) : 0);
    case 'timestamp':
      return `${isoDate(h ? hashedDays(h) : 0)} 00:00:00`;
    case 'timestamptz':
      return `${isoDate(h ? hashedDays(h) : 0)} 00:00:00+00`;
    case 'time':
    case 'interval':
      return '00:00:00';
    case 'timetz':
      return '00:00:00+00';
  }
}

/**
 * The masked value, in binary, of a scalar whose binary form is `cell`. The hash is taken over the
 * value's text form where that is cheap to get (integers, uuid), so text and binary results of the
 * same value hash alike; for the other kinds over the binary bytes.
 */
export function maskScalarBinary(cell: Buffer, kind: ScalarKind, ctx: StyleContext): Buffer {
  const hashOf = () => keyedHash(ctx.hashKey, binaryHashInput(cell, kind));
  switch (kind) {
    case 'bool':
      return Buffer.from([0]);
    case 'char1':
      return Buffer.from('*');
    case 'int2':
    case 'int4':
    case 'int8': {
      const input = binaryHashInput(cell, kind);
      const text = ctx.style === 'redact' || typeof input !== 'string' ? '0' : maskScalarText(input, kind, ctx);
      return encodeInteger(BigInt(text), kind);
    }
    case 'float4':
    case 'float8': {
      const value = ctx.style === 'hash' ? hashOf().readUInt32BE(0) % 16_777_216 : 0;
      const out = Buffer.alloc(kind === 'float4' ? 4 : 8);
      if (kind === 'float4') out.writeFloatBE(value, 0);
      else out.writeDoubleBE(value, 0);
      return out;
    }
    case 'numeric':
      if (ctx.style === 'hash') return encodeNumeric(hashedBigint(hashOf(), 'numeric'));
      return encodeNumeric(ctx.style === 'partial' ? numericUnitsGroup(cell) : 0n);
    case 'uuid': {
      if (ctx.style === 'hash') return Buffer.from(hashOf().subarray(0, 16));
      const out = Buffer.alloc(16);
      if (ctx.style === 'partial' && cell.length === 16) cell.copy(out, 14, 14, 16);
      return out;
    }
    case 'date': {
      const out = Buffer.alloc(4);
      out.writeInt32BE(ctx.style === 'hash' ? hashedDays(hashOf()) - PG_EPOCH_DAYS : -PG_EPOCH_DAYS, 0);
      return out;
    }
    case 'timestamp':
    case 'timestamptz': {
      const out = Buffer.alloc(8);
      const days = ctx.style === 'hash' ? hashedDays(hashOf()) - PG_EPOCH_DAYS : -PG_EPOCH_DAYS;
      out.writeBigInt64BE(BigInt(days) * MICROS_PER_DAY, 0);
      return out;
    }
    case 'time':
      return Buffer.alloc(8);
    case 'timetz':
      return Buffer.alloc(12); // microseconds, then the zone offset in seconds
    case 'interval':
      return Buffer.alloc(16); // microseconds, days, months
  }
}

function binaryHashInput(cell: Buffer, kind: ScalarKind): string | Buffer {
  if (kind === 'int2' && cell.length === 2) return String(cell.readInt16BE(0));
  if (kind === 'int4' && cell.length === 4) return String(cell.readInt32BE(0));
  if (kind === 'int8' && cell.length === 8) return cell.readBigInt64BE(0).toString();
  if (kind === 'uuid' && cell.length === 16) return formatUuid(cell);
  return cell;
}

function hashedBigint(h: Buffer, kind: 'int8' | 'numeric'): bigint {
  const value = h.readBigUInt64BE(0);
  return kind === 'int8' ? value & 0x7fff_ffff_ffff_ffffn : value % 1_000_000_000_000n;
}

/** Days since 1970-01-01 for a hashed date between 2000 and 2099. */
function hashedDays(h: Buffer): number {
  return PG_EPOCH_DAYS + (h.readUInt32BE(4) % 36_524);
}

function isoDate(daysSince1970: number): string {
  return new Date(daysSince1970 * 86_400_000).toISOString().slice(0, 10);
}

function lastFourDigits(text: string): string {
  const integer = text.replace(/^[-+]/, '').split('.')[0] ?? '';
  if (!/^\d+$/.test(integer)) return '0';
  return String(Number(integer.slice(-4)));
}

function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function encodeInteger(value: bigint, kind: 'int2' | 'int4' | 'int8'): Buffer {
  const out = Buffer.alloc(kind === 'int2' ? 2 : kind === 'int4' ? 4 : 8);
  if (kind === 'int2') out.writeInt16BE(Number(value), 0);
  else if (kind === 'int4') out.writeInt32BE(Number(value), 0);
  else out.writeBigInt64BE(value, 0);
  return out;
}

/**
 * numeric_send of a non-negative integer: ndigits, weight, sign, dscale, then base-10000 digits
 * most significant first (numeric.c). Zero is ndigits 0.
 */
export function encodeNumeric(value: bigint): Buffer {
  const digits: number[] = [];
  for (let v = value; v > 0n; v /= 10_000n) digits.unshift(Number(v % 10_000n));
  let weight = digits.length - 1;
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop(); // trailing zero groups are implied by weight
  if (digits.length === 0) weight = 0;
  const out = Buffer.alloc(8 + digits.length * 2);
  out.writeInt16BE(digits.length, 0);
  out.writeInt16BE(weight, 2);
  out.writeUInt16BE(0, 4);
  out.writeInt16BE(0, 6);
  digits.forEach((d, i) => out.writeInt16BE(d, 8 + i * 2));
  return out;
}

/** The base-10000 digit holding the units of a binary numeric: its value mod 10000 (sign dropped). */
function numericUnitsGroup(cell: Buffer): bigint {
  if (cell.length < 8) return 0n;
  const ndigits = cell.readInt16BE(0);
  const weight = cell.readInt16BE(2);
  const sign = cell.readUInt16BE(4);
  if (sign === 0xc000 || weight < 0 || weight >= ndigits || cell.length < 8 + ndigits * 2) return 0n; // NaN, |x| < 1, or trailing zero groups
  return BigInt(cell.readInt16BE(8 + weight * 2));
}
