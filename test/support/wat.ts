/** Assembles WebAssembly text into a binary for tests (wabt from npm). */
import wabtInit from 'wabt';

const wabt = await wabtInit();

export function wat(text: string): Uint8Array {
  const mod = wabt.parseWat('test.wat', text, { multi_value: true, bulk_memory: true });
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}
