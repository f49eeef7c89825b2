export function greeting(name: string): string {
  return `Hello from ${name}`;
}
