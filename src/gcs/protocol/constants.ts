/**
 * Wire constants of the GCS bridge: header layout, size limit, well-known vsock ports and ids.
 * Names follow hcsshim's internal/gcs/prot so the two can be read side by side.
 */

/** Header length in bytes: Type u32 | Size u32 | ID u64, all little-endian. */
export const HdrSize = 16;
export const HdrOffType = 0;
export const HdrOffSize = 4;
export const HdrOffID = 8;

/**
 * The host's limit on an incoming frame (header included). The guest enforces no maximum upstream;
 * our decoder always enforces one (the caller may raise it), so a peer can never make us allocate freely.
 */
export const MaxMsgSize = 0x10000;

/**
 * Message ids are u64 on the wire; we carry them as JS numbers and reject anything above
 * Number.MAX_SAFE_INTEGER (2^53 - 1) as a protocol error. The host counter starts at 0 and never gets there.
 */
export const MaxMessageId = Number.MAX_SAFE_INTEGER;

/** The only protocol version that exists (PvV4). */
export const ProtocolVersion = 4;

/** vsock port the GCS dials on the host. Stdio ports count up from LinuxGcsVsockPort + 1. */
export const LinuxGcsVsockPort = 0x40000000;
export const FirstStdioVsockPort = LinuxGcsVsockPort + 1;
/** PID 1 (init -e 1) reads 512 bytes of entropy from this port at boot. */
export const LinuxEntropyVsockPort = 1;
export const LinuxEntropyBytes = 512;
/** vsockexec forwards the GCS's stderr (logrus JSON lines) to this port. */
export const LinuxLogVsockPort = 109;
/** HCS serves the VM's Plan9 (9p) shares on this port; the guest mounts them from it (MappedDirectory.Port). */
export const Plan9Port = 564;

/** ContainerId of UVM-level requests (hcsshim nullContainerID / guest UVMContainerID). */
export const NullContainerID = '00000000-0000-0000-0000-000000000000';
/** The ActivityId the host sends (it never fills it in). */
export const NullActivityID = '00000000-0000-0000-0000-000000000000';

/** WaitForProcess TimeoutInMs meaning "wait forever". */
export const InfiniteWaitTimeout = 0xffffffff;

/** Where the guest keeps a container's bundle: /run/gcs/c/<id>. */
export const LCOWRootPrefixInUVM = '/run/gcs/c';
