/**
 * The client's stdio endpoints of a process, as containerd sends them in Create/Exec (and echoes in
 * /tasks/create's TaskIO): FIFO paths on Linux, pipe names on Windows, or a `file://`/`binary://` URI in stdout;
 * "" = none. The one type for them across the task logic, the stdio relay and events.
 */
export interface StdioPaths {
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}
