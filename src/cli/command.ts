/**
 * The shape of one CLI subcommand. Each subcommand lives in `commands/<name>.ts` and is
 * registered in `commands/index.ts` (with its one-line summary, loaded on first use);
 * `main.ts` only dispatches.
 */

export interface CliIo {
  /** Writes to the user's stdout / stderr (tests capture these). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Where relative paths are resolved. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal (progress bars are drawn only then, unless asked for). */
  stderrIsTTY?: boolean;
}

export interface Command {
  /** The verb, e.g. `build` or `image`. */
  readonly name: string;
  /** Full usage text for `nanovisor <name> --help`. */
  readonly usage: string;
  /**
   * The command reads `--help` itself (as a flag before its first positional), so that a
   * `--help` meant for a guest (`run app.wasm --help`) reaches the guest.
   */
  readonly ownHelp?: boolean;
  /**
   * Runs the command with the arguments after the verb. Returns the process exit code.
   * Throws NanovisorError for user mistakes; main.ts prints them as one line.
   */
  run(argv: string[], io: CliIo): Promise<number>;
}
