/** DataRow bodies and binary COPY tuples built by hand, as the server lays them out. */

export type Cell = string | Buffer | null;

function cellBytes(cell: Cell): Buffer {
  if (cell === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const value = Buffer.isBuffer(cell) ? cell : Buffer.from(cell);
  const length = Buffer.alloc(4);
  length.writeInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/** Int16 column count, then Int32 length (−1 NULL) and bytes per column. */
export function dataRowBody(cells: Cell[]): Buffer {
  const count = Buffer.alloc(2);
  count.writeInt16BE(cells.length);
  return Buffer.concat([count, ...cells.map(cellBytes)]);
}

/** The cells of a DataRow body (NULL as null). */
export function readDataRow(body: Buffer): (Buffer | null)[] {
  const count = body.readInt16BE(0);
  const cells: (Buffer | null)[] = [];
  let pos = 2;
  for (let i = 0; i < count; i += 1) {
    const length = body.readInt32BE(pos);
    pos += 4;
    cells.push(length < 0 ? null : body.subarray(pos, pos + length));
    pos += Math.max(0, length);
  }
  if (pos !== body.length) throw new Error('trailing bytes');
  return cells;
}

export function int4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export const COPY_SIGNATURE = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int4(0), int4(0)]);
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);
