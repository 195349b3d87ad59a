/**
 * The one command line of the guest agent, for the agent spawned at Start (guest-launcher.ts) and the pre-loaded
 * one (warm-guest.ts), which must be the same process:
 *   [setpriv --pdeathsig KILL --] <node> --no-warnings <entry> <agent args>
 * `setpriv`: its path when the agent must die with this process (HCS kills a VM whose last handle goes away).
 */
export function guestCommand(entry: string, agentArgs: readonly string[], setpriv: string | undefined): [string, string[]] {
  const nodeArgs = ['--no-warnings', entry, ...agentArgs];
  return setpriv === undefined ? [process.execPath, nodeArgs] : [setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs]];
}
