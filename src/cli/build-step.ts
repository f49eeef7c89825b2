/**
 * The manifest's build step (`"build": { "command": [...] }`): the command that compiles an
 * app's sources into its module, run by `nanovisor build DIR` and `nanovisor deploy DIR` on the
 * user's machine before sealing (never by the daemon: an uploaded app is never executed on
 * the host). The command is an argv, run without a shell in the app directory.
 *
 * A few program names are resolved here so that templates work as written on a fresh machine:
 * `rustc` is Debian's /usr/bin/rustc when it exists (it carries the wasm32-wasi standard
 * library; a rustup toolchain earlier on PATH usually does not), `asc` is AssemblyScript's
 * compiler from the app's node_modules or nanovisor's own, run on this Node. A missing
 * program or a missing WASI library is one clear error saying what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, parseManifestText } from '../image/index.ts';
import { NanovisorError } from '../shared/errors.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const DEBIAN_C = 'apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32';
const DEBIAN_CXX = `${DEBIAN_C} libc++-14-dev-wasm32 libc++abi-14-dev-wasm32`;
const DEBIAN_RUST = 'apt-get install rustc libstd-rust-dev-wasm32';

/** What to install for each program nanovisor knows, when it is missing. */
const INSTALL: Record<string, string> = {
  clang: DEBIAN_C,
  'clang++': DEBIAN_CXX,
  rustc: DEBIAN_RUST,
  asc: 'npm install --save-dev assemblyscript (in the app directory)',
};

export interface ResolvedCommand {
  /** The program to spawn and its arguments. */
  file: string;
  args: string[];
  /** The name the manifest gave (`clang`, `asc`, ...), for messages. */
  tool: string;
}

/** Finds `node_modules/assemblyscript/bin/asc.js` from `dir` upwards, then in nanovisor's own tree. */
function findAsc(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) break;
  }
  const own = join(PACKAGE_ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  return existsSync(own) ? own : undefined;
}

/**
 * Turns a build command into the program to spawn.
 *
 * @example
 * resolveCommand(['rustc', 'main.rs'], '/app', {}).file; // '/usr/bin/rustc' on Debian
 */
export function resolveCommand(command: readonly string[], appDir: string, env: NodeJS.ProcessEnv): ResolvedCommand {
  const [tool, ...args] = command as [string, ...string[]];
  switch (tool) {
    case 'clang':
      return { tool, file: env['NANOVISOR_CC'] ?? 'clang', args };
    case 'clang++':
      return { tool, file: env['NANOVISOR_CXX'] ?? 'clang++', args };
    case 'rustc':
      return { tool, file: env['NANOVISOR_RUSTC'] ?? (existsSync('/usr/bin/rustc') ? '/usr/bin/rustc' : 'rustc'), args };
    case 'asc': {
      const asc = findAsc(appDir);
      if (asc === undefined) missing(tool, 'AssemblyScript is not installed');
      return { tool, file: process.execPath, args: [asc, ...args] };
    }
    default:
      return { tool, file: tool, args };
  }
}

function missing(tool: string, why: string): never {
  const install = INSTALL[tool];
  throw new NanovisorError('NV_BUILD_TOOL_MISSING', `build step: ${why}${install === undefined ? '' : `; install it with: ${install}`}`, { details: { tool } });
}

/** A known compiler complaint that means a missing WASI library, with what to install. */
function libraryHint(tool: string, output: string): string | undefined {
  if (tool === 'rustc' && /can't find crate for `(std|core)`|target may not be installed/.test(output)) {
    return `the wasm32-wasi Rust standard library is missing: ${DEBIAN_RUST} (with rustup: rustup target add wasm32-wasip1)`;
  }
  if ((tool === 'clang' || tool === 'clang++') && /wasi-sysroot|'(stdio|stdlib|string)\.h' file not found|libclang_rt\.builtins|unable to find library -lc\b|cannot find -lc\b/.test(output)) {
    return `the WASI C library is missing: ${DEBIAN_C}`;
  }
  if (tool === 'clang++' && /'(iostream|string|vector|cstdio)' file not found|-lc\+\+/.test(output)) {
    return `the WASI C++ library is missing: ${DEBIAN_CXX}`;
  }
  return undefined;
}

export interface BuildStepIo {
  /** Progress and the compiler's own output go here. */
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs the build step of the app directory `dir`, if its manifest declares one; returns
 * whether it ran. Throws NV_BUILD_TOOL_MISSING when the program (or its WASI library) is not
 * installed and NV_BUILD_STEP_FAILED when it exits non-zero, after printing its output.
 */
export function runBuildStep(dir: string, io: BuildStepIo): boolean {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return false;
  const manifest = parseManifestText(readFileSync(manifestPath, 'utf8'), manifestPath);
  if (manifest.build === undefined) return false;
  const cmd = resolveCommand(manifest.build.command, dir, io.env);
  io.stderr(`build step: ${manifest.build.command.join(' ')}\n`);
  const r = spawnSync(cmd.file, cmd.args, { cwd: dir, env: io.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const output = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
  if (r.error !== undefined) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') missing(cmd.tool, `${cmd.tool} not found (${cmd.file})`);
    throw new NanovisorError('NV_BUILD_STEP_FAILED', `build step: could not start ${cmd.tool}: ${r.error.message}`, { cause: r.error });
  }
  if (output !== '') io.stderr(output.endsWith('\n') ? output : `${output}\n`);
  if (r.status !== 0) {
    const hint = libraryHint(cmd.tool, output);
    if (hint !== undefined) throw new NanovisorError('NV_BUILD_TOOL_MISSING', `build step: ${hint}`, { details: { tool: cmd.tool } });
    const how = r.status === null ? `was killed by ${r.signal}` : `exited with code ${r.status}`;
    throw new NanovisorError('NV_BUILD_STEP_FAILED', `build step: ${cmd.tool} ${how} (its output is above)`, { details: { tool: cmd.tool, status: r.status } });
  }
  return true;
}
