/** Every CLI subcommand, in the order `nanovisor help` lists them. */
import type { Command } from '../command.ts';
import { appCommand } from './app.ts';
import { appsCommand } from './apps.ts';
import { buildCommand } from './build.ts';
import { deployCommand } from './deploy.ts';
import { demoCommand } from './demo.ts';
import { imageCommand } from './image.ts';
import { logsCommand } from './logs.ts';
import { rmCommand } from './rm.ts';
import { rollbackCommand } from './rollback.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { tokenCommand } from './token.ts';
import { versionsCommand } from './versions.ts';

export const COMMANDS: Command[] = [runCommand, buildCommand, imageCommand, demoCommand, serveCommand,
  deployCommand, appsCommand, appCommand, versionsCommand, rollbackCommand, rmCommand, logsCommand, tokenCommand];
