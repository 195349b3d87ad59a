/**
 * tar2ext4: OCI image layers → LCOW layer folders (layer.vhd = ext4 + fixed VHD footer), with hcsshim
 * tar2ext4's semantics, built from GNU tar and e2fsprogs. Used by the `lcow-layers` tool and the tests.
 * May import: vhd, errdefs.
 */
export { layerTarToVhd } from './layer-image.js';
export { ociImageToLcowLayers, type LcowImage } from './oci-image.js';
