import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isErrorCode } from '../../src/errdefs/index.js';
import { guidFromBytes, guidToBytes, isGuid, normalizeGuid } from '../../src/guid/index.js';
import {
  AF_HYPERV,
  HV_GUID_LOOPBACK,
  SOCKADDR_HV_SIZE,
  decodeSockaddrHv,
  encodeSockaddrHv,
  portFromServiceId,
  vsockServiceId,
} from '../../src/transport/index.js';

describe('vsockServiceId / portFromServiceId', () => {
  it('maps the fixed LCOW ports to the documented GUIDs', () => {
    assert.equal(vsockServiceId(0x40000000), '40000000-facb-11e6-bd58-64006a7986d3');
    assert.equal(vsockServiceId(1), '00000001-facb-11e6-bd58-64006a7986d3');
    assert.equal(vsockServiceId(109), '0000006d-facb-11e6-bd58-64006a7986d3');
    assert.equal(vsockServiceId(0x40000001), '40000001-facb-11e6-bd58-64006a7986d3');
    assert.equal(vsockServiceId(0xffffffff), 'ffffffff-facb-11e6-bd58-64006a7986d3');
  });

  it('rejects ports outside u32', () => {
    for (const bad of [-1, 0x100000000, 1.5, Number.NaN]) {
      assert.throws(() => vsockServiceId(bad), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    }
  });

  it('reads the port back, case- and brace-insensitively', () => {
    assert.equal(portFromServiceId('40000000-facb-11e6-bd58-64006a7986d3'), 0x40000000);
    assert.equal(portFromServiceId('{0000006D-FACB-11E6-BD58-64006A7986D3}'), 109);
    assert.equal(portFromServiceId(vsockServiceId(0)), 0);
  });

  it('returns undefined for a well-formed GUID that is not the vsock template', () => {
    assert.equal(portFromServiceId(HV_GUID_LOOPBACK), undefined);
    assert.equal(portFromServiceId('00000001-facb-11e6-bd58-64006a7986d4'), undefined);
  });

  it('throws InvalidArgument for a malformed GUID, naming it', () => {
    assert.throws(() => portFromServiceId('not-a-guid'), (e) => isErrorCode(e, ErrorCode.InvalidArgument) && /not-a-guid/.test(String(e)));
    assert.equal(isGuid('00000001-facb-11e6-bd58-64006a7986d'), false);
  });
});

describe('GUID byte layout', () => {
  it('is mixed-endian: Data1/2/3 little-endian, Data4 as written', () => {
    const b = guidToBytes('40000000-facb-11e6-bd58-64006a7986d3');
    assert.deepEqual([...b], [0x00, 0x00, 0x00, 0x40, 0xcb, 0xfa, 0xe6, 0x11, 0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3]);
    const c = guidToBytes('01020304-0506-0708-090a-0b0c0d0e0f10');
    assert.deepEqual([...c], [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16]);
  });

  it('round-trips and normalises to lower case', () => {
    const g = 'A42E7CDA-D03F-480C-9CC2-A4DE20ABB878';
    assert.equal(guidFromBytes(guidToBytes(g)), g.toLowerCase());
    assert.equal(normalizeGuid(`{${g}}`), g.toLowerCase());
  });

  it('refuses short buffers', () => {
    assert.throws(() => guidFromBytes(Buffer.alloc(15)), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    assert.throws(() => guidFromBytes(Buffer.alloc(20), 5), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
  });
});

describe('SOCKADDR_HV', () => {
  const vmId = 'a42e7cda-d03f-480c-9cc2-a4de20abb878';
  const expectedHead = [34, 0, 0, 0, 0xda, 0x7c, 0x2e, 0xa4, 0x3f, 0xd0, 0x0c, 0x48, 0x9c, 0xc2, 0xa4, 0xde, 0x20, 0xab, 0xb8, 0x78];
  const tail = [0xcb, 0xfa, 0xe6, 0x11, 0xbd, 0x58, 0x64, 0x00, 0x6a, 0x79, 0x86, 0xd3];

  it('encodes family, reserved, VmId, ServiceId byte for byte (36 bytes)', () => {
    const cases: [number, number[]][] = [
      [0x40000000, [0x00, 0x00, 0x00, 0x40]],
      [1, [0x01, 0x00, 0x00, 0x00]],
      [109, [0x6d, 0x00, 0x00, 0x00]],
    ];
    for (const [port, data1] of cases) {
      const bytes = encodeSockaddrHv({ vmId, serviceId: vsockServiceId(port) });
      assert.equal(bytes.length, SOCKADDR_HV_SIZE);
      assert.equal(SOCKADDR_HV_SIZE, 36);
      assert.deepEqual([...bytes], [...expectedHead, ...data1, ...tail]);
      assert.deepEqual(decodeSockaddrHv(bytes), { vmId, serviceId: vsockServiceId(port) });
    }
  });

  it('rejects a wrong family or a short buffer', () => {
    const bytes = encodeSockaddrHv({ vmId, serviceId: vsockServiceId(1) });
    bytes.writeUInt16LE(43, 0);
    assert.throws(() => decodeSockaddrHv(bytes), (e) => isErrorCode(e, ErrorCode.InvalidArgument) && /43/.test(String(e)));
    assert.throws(() => decodeSockaddrHv(Buffer.alloc(35)), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    assert.equal(AF_HYPERV, 34);
  });
});
