/** A subcommand of the `edgewarden` executable. */
export interface Command {
  summary: string;
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
