/**
 * lcow-layers: turns an OCI image archive (`ctr images export` output) into LCOW layer folders.
 *   node dist/cmd/lcow-layers.js --image IMAGE.tar --out DIR [--ref NAME]
 * Prints JSON on stdout: {"layerFolders": [top-most first], "config": <image config>}; errors on stderr.
 */
import { ociImageToLcowLayers } from '../src/tar2ext4/index.js';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const image = value('image');
const out = value('out');
if (!image || !out) {
  process.stderr.write('usage: lcow-layers --image IMAGE.tar --out DIR [--ref NAME]\n');
  process.exit(2);
}
ociImageToLcowLayers(image, out, value('ref')).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: Error) => {
    process.stderr.write(`lcow-layers: ${err.message}\n`);
    process.exit(1);
  },
);
