/**
 * errdefs: the shim's one error vocabulary (a leaf; every other module may import it).
 * Layer boundaries: imports nothing of the project.
 */
export * from './shim-error.js';
export * from './grpc-code.js';
