/**
 * errdefs: the shim's one error vocabulary (a leaf; every other module may import it).
 * hresult.ts is the one HRESULT vocabulary (names, the HRESULT → ErrorCode table, the hex spelling) for the HCS
 * binding, the emulator, the GCS bridge and the guest; ignoreErrno/ignoreAbsent name the errnos a caller expects (trySync: the same for a synchronous call).
 * May import: nothing of the project.
 */
export * from './shim-error.js';
export * from './grpc-code.js';
export * from './hresult.js';
