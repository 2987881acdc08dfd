/** A subcommand of the \`edgewarden\` executable (its one-line summary is in main.ts's table). */
export interface Command {
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
