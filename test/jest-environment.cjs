// jest's node environment, with the outer realm's typed arrays and ArrayBuffer: native
// add-ons such as onnxruntime-node check `instanceof Float32Array` against their own realm,
// which a vm context's constructors fail (microsoft/onnxruntime#16622).
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

class SharedTypedArraysEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'ArrayBuffer',
      'SharedArrayBuffer',
      'Uint8Array',
      'Uint8ClampedArray',
      'Int8Array',
      'Uint16Array',
      'Int16Array',
      'Uint32Array',
      'Int32Array',
      'Float32Array',
      'Float64Array',
      'BigInt64Array',
      'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = SharedTypedArraysEnvironment;
