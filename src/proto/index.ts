/**
 * proto: the protobuf messages generated from protos/ (by scripts/gen-protos.mjs, at build time).
 * Layer boundaries: a leaf. Only src/ttrpc and the shim's Task edge import it; protobuf types stop there.
 * May import: nothing of the project. (Its generated code lives in src/gen.)
 * int64 fields decode as JavaScript numbers (exact up to 2^53, enough for nanosecond timeouts and seconds).
 */
import protobuf from 'protobufjs/minimal.js';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export * from '../gen/protos.js';
