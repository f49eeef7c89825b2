/** Every CLI subcommand, in the order `nanovisor help` lists them. */
import type { Command } from '../command.ts';
import { buildCommand } from './build.ts';
import { demoCommand } from './demo.ts';
import { imageCommand } from './image.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';

export const COMMANDS: Command[] = [runCommand, buildCommand, imageCommand, demoCommand, serveCommand];
