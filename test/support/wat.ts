/** Assembles WebAssembly text into a binary for tests (wabt from npm). */
import wabtInit from 'wabt';

const wabt = await wabtInit();

export function wat(text: string): Uint8Array {
  // multi_memory is a wabt feature its typings do not list yet.
  const mod = wabt.parseWat('test.wat', text, { multi_value: true, bulk_memory: true, reference_types: true, multi_memory: true } as Parameters<typeof wabt.parseWat>[2]);
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}
