/** The binary's name and version (a leaf, so that the hot paths need not load the flag parser). */
export const SHIM_NAME = 'containerd-shim-lcow-v1';
export const SHIM_VERSION = '0.1.0';
