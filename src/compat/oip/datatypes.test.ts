import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertInvalid } from '../../learn/testing/assert.js';
import { parseOipBody } from './binary.js';
import { checkElement, decodeBinary, encodeBinary, isOipDatatype, OIP_DATATYPES } from './datatypes.js';

function le(write: (buffer: Buffer) => void, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  write(buffer);
  return buffer;
}

describe('OIP datatypes', () => {
  it('knows exactly the thirteen datatypes of the spec, case-sensitively', () => {
    assert.equal(OIP_DATATYPES.length, 13);
    assert.ok(isOipDatatype('FP32'));
    assert.ok(!isOipDatatype('fp32'));
    assert.ok(!isOipDatatype('BF16'));
  });

  it('checks JSON elements against each datatype range', () => {
    const fits: [string, unknown][] = [
      ['BOOL', true],
      ['UINT8', 255],
      ['UINT16', 65535],
      ['UINT32', 4294967295],
      ['UINT64', Number.MAX_SAFE_INTEGER],
      ['INT8', -128],
      ['INT16', 32767],
      ['INT32', -2147483648],
      ['INT64', Number.MIN_SAFE_INTEGER],
      ['FP16', 65504],
      ['FP32', 3.4e38],
      ['FP64', 1e308],
      ['BYTES', 'Biscoe'],
      ['FP32', null],
      ['BYTES', null],
    ];
    for (const [datatype, value] of fits) {
      assert.equal(checkElement(datatype as never, value, 'x'), value, `${datatype} ${value}`);
    }
    const misfits: [string, unknown, RegExp][] = [
      ['BOOL', 0, /BOOL data must be true or false/],
      ['UINT8', 256, /out of the UINT8 range 0\.\.255/],
      ['UINT32', -1, /out of the UINT32 range/],
      ['INT8', 128, /out of the INT8 range -128\.\.127/],
      ['INT16', 1.5, /INT16 data must be whole numbers/],
      ['INT64', 2 ** 63, /beyond ±2\^53 - 1/],
      ['UINT64', 2 ** 64, /beyond ±2\^53 - 1/],
      ['FP16', 70000, /out of the FP16 range ±65504/],
      ['FP32', 1e39, /out of the FP32 range/],
      ['FP64', 'NaN', /is a string; FP64 data must be finite numbers/],
      ['BYTES', 3, /BYTES data must be strings/],
      ['INT32', null, /is null; INT32 data must be whole numbers/],
      ['BOOL', null, /is null/],
    ];
    for (const [datatype, value, pattern] of misfits) {
      assertInvalid(() => checkElement(datatype as never, value, 'inputs[0].data[0]'), 'inputs[0].data[0]', pattern);
    }
  });

  it('decodes little-endian binary chunks of every fixed-size datatype', () => {
    assert.deepEqual(decodeBinary('BOOL', Uint8Array.of(1, 0), 2, 'x'), [true, false]);
    assert.deepEqual(decodeBinary('UINT8', Uint8Array.of(7, 255), 2, 'x'), [7, 255]);
    assert.deepEqual(
      decodeBinary(
        'UINT16',
        le((b) => b.writeUInt16LE(65535), 2),
        1,
        'x',
      ),
      [65535],
    );
    assert.deepEqual(
      decodeBinary(
        'UINT32',
        le((b) => b.writeUInt32LE(4000000000), 4),
        1,
        'x',
      ),
      [4000000000],
    );
    assert.deepEqual(
      decodeBinary(
        'UINT64',
        le((b) => b.writeBigUInt64LE(2n ** 40n), 8),
        1,
        'x',
      ),
      [2 ** 40],
    );
    assert.deepEqual(decodeBinary('INT8', new Uint8Array(Int8Array.of(-5).buffer), 1, 'x'), [-5]);
    assert.deepEqual(
      decodeBinary(
        'INT16',
        le((b) => b.writeInt16LE(-300), 2),
        1,
        'x',
      ),
      [-300],
    );
    assert.deepEqual(
      decodeBinary(
        'INT32',
        le((b) => b.writeInt32LE(-70000), 4),
        1,
        'x',
      ),
      [-70000],
    );
    assert.deepEqual(
      decodeBinary(
        'INT64',
        le((b) => b.writeBigInt64LE(-(2n ** 50n)), 8),
        1,
        'x',
      ),
      [-(2 ** 50)],
    );
    // Half floats: 1, -2, the largest, the smallest subnormal, and NaN (a missing value).
    const half = le((b) => {
      for (const [i, bits] of [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7e00].entries()) b.writeUInt16LE(bits, i * 2);
    }, 10);
    assert.deepEqual(decodeBinary('FP16', half, 5, 'x'), [1, -2, 65504, 2 ** -24, null]);
    assert.deepEqual(decodeBinary('FP32', new Uint8Array(Float32Array.of(1.5, Number.NaN).buffer), 2, 'x'), [
      1.5,
      null,
    ]);
    assert.deepEqual(decodeBinary('FP64', new Uint8Array(Float64Array.of(-0.25).buffer), 1, 'x'), [-0.25]);
  });

  it('refuses binary chunks that do not fit: wrong size, bad BOOL byte, infinity, unsafe 64-bit integers, bad UTF-8', () => {
    assertInvalid(
      () => decodeBinary('FP32', new Uint8Array(6), 2, 'x'),
      'x',
      /has 6 bytes; 2 FP32 elements are 8 bytes/,
    );
    assertInvalid(() => decodeBinary('BOOL', Uint8Array.of(2), 1, 'x'), 'x[0]', /BOOL elements are 0 or 1/);
    assertInvalid(
      () => decodeBinary('FP64', new Uint8Array(Float64Array.of(Number.POSITIVE_INFINITY).buffer), 1, 'x'),
      'x[0]',
      /must be finite/,
    );
    assertInvalid(
      () =>
        decodeBinary(
          'INT64',
          le((b) => b.writeBigInt64LE(2n ** 62n), 8),
          1,
          'x',
        ),
      'x[0]',
      /beyond ±2\^53 - 1/,
    );
    const badUtf8 = Buffer.concat([le((b) => b.writeUInt32LE(1), 4), Buffer.from([0xff])]);
    assertInvalid(() => decodeBinary('BYTES', badUtf8, 1, 'x'), 'x[0]', /not valid UTF-8/);
    assertInvalid(
      () => decodeBinary('BYTES', Buffer.alloc(4), 2, 'x'),
      'x',
      /holds 1 BYTES elements; its shape needs 2/,
    );
  });

  it('round-trips BYTES and FP64 through the binary encoding', () => {
    const words = ['Adelie', '', 'Émilie ☃'];
    const encoded = encodeBinary('BYTES', words);
    assert.deepEqual(decodeBinary('BYTES', encoded, 3, 'x'), words);
    const numbers = [1.5, -2, 1e-300];
    assert.deepEqual(decodeBinary('FP64', encodeBinary('FP64', numbers), 3, 'x'), numbers);
  });
});

describe('OIP request bodies', () => {
  it('splits JSON from binary data at Inference-Header-Content-Length, and refuses a bad header', () => {
    const json = Buffer.from('{"inputs":[]}');
    const body = Buffer.concat([json, Buffer.from([1, 2, 3])]);
    const parsed = parseOipBody(String(json.length), body);
    assert.deepEqual(parsed.json, { inputs: [] });
    assert.deepEqual([...(parsed.binary ?? [])], [1, 2, 3]);
    assert.throws(() => parseOipBody(undefined, body), /not valid JSON/);
    assertInvalid(() => parseOipBody('99', body), 'Inference-Header-Content-Length', /body has only 16 bytes/);
    assertInvalid(() => parseOipBody('ten', body), 'Inference-Header-Content-Length', /byte length of the JSON part/);
  });
});
