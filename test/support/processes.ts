/**
 * Process trees for black-box tests, read from /proc: a process's parent and state, whether
 * it is alive (a zombie is not), and every descendant of a root now.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Parent and state (R, S, Z, …) of a process, or undefined when it is gone. */
export function procInfo(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Every descendant of `root` now, by walking /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info === undefined) continue;
    let list = children.get(info.ppid);
    if (list === undefined) children.set(info.ppid, (list = []));
    list.push(Number(name));
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}
