/**
 * Message-type encoding: Type (u32) = T (4 bits) | Category (8 bits) | MessageId (12 bits) | Version (8 bits).
 *
 *   31..28  T         0x1 request, 0x2 response, 0x3 notification
 *   27..20  Category  0x001 ComputeSystem, 0x002 ComputeService
 *   19..8   MessageId the RPC number (1 = Create ... 15 = LifecycleNotification)
 *    7..0   Version   always 1
 *
 * An RPCProc is a Type without T (Category | MessageId << 8 | 1); a request is MsgTypeRequest | proc and its
 * response MsgTypeResponse | proc. Constant names follow hcsshim's internal/gcs/prot.
 */

export const MsgTypeRequest = 0x10000000;
export const MsgTypeResponse = 0x20000000;
export const MsgTypeNotify = 0x30000000;
/** Alias of MsgTypeNotify under the longer name. */
export const MsgTypeNotification = MsgTypeNotify;
export const MsgTypeMask = 0xf0000000;

export const ComputeSystem = 0x00100000;
export const ComputeService = 0x00200000;
export const CategoryMask = 0x0ff00000;
export const MessageIdMask = 0x000fff00;
export const VersionMask = 0x000000ff;

/** The notification id within ComputeSystem: Notify | ComputeSystem | NotifyContainer = 0x30100101. */
export const NotifyContainer = (1 << 8) | 1;
export const ComputeSystemNotificationV1 = (MsgTypeNotify | ComputeSystem | NotifyContainer) >>> 0;

const proc = (category: number, n: number): number => (category | (n << 8) | 1) >>> 0;

export const RPCCreate = proc(ComputeSystem, 1);
export const RPCStart = proc(ComputeSystem, 2);
export const RPCShutdownGraceful = proc(ComputeSystem, 3);
export const RPCShutdownForced = proc(ComputeSystem, 4);
export const RPCExecuteProcess = proc(ComputeSystem, 5);
export const RPCWaitForProcess = proc(ComputeSystem, 6);
export const RPCSignalProcess = proc(ComputeSystem, 7);
export const RPCResizeConsole = proc(ComputeSystem, 8);
export const RPCGetProperties = proc(ComputeSystem, 9);
export const RPCModifySettings = proc(ComputeSystem, 10);
export const RPCNegotiateProtocol = proc(ComputeSystem, 11);
export const RPCDumpStacks = proc(ComputeSystem, 12);
export const RPCDeleteContainerState = proc(ComputeSystem, 13);
export const RPCUpdateContainer = proc(ComputeSystem, 14);
export const RPCLifecycleNotification = proc(ComputeSystem, 15);
export const RPCModifyServiceSettings = proc(ComputeService, 1);

const RPC_NAMES: ReadonlyMap<number, string> = new Map([
  [RPCCreate, 'Create'],
  [RPCStart, 'Start'],
  [RPCShutdownGraceful, 'ShutdownGraceful'],
  [RPCShutdownForced, 'ShutdownForced'],
  [RPCExecuteProcess, 'ExecuteProcess'],
  [RPCWaitForProcess, 'WaitForProcess'],
  [RPCSignalProcess, 'SignalProcess'],
  [RPCResizeConsole, 'ResizeConsole'],
  [RPCGetProperties, 'GetProperties'],
  [RPCModifySettings, 'ModifySettings'],
  [RPCNegotiateProtocol, 'NegotiateProtocol'],
  [RPCDumpStacks, 'DumpStacks'],
  [RPCDeleteContainerState, 'DeleteContainerState'],
  [RPCUpdateContainer, 'UpdateContainer'],
  [RPCLifecycleNotification, 'LifecycleNotification'],
  [RPCModifyServiceSettings, 'ModifyServiceSettings'],
]);

/** Every RPCProc this protocol defines (the Linux GCS handles the first 13). */
export const AllRPCProcs: readonly number[] = [...RPC_NAMES.keys()];

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

/** "Create", "ExecuteProcess", ... or the hex value for an unknown proc. */
export function rpcName(procValue: number): string {
  return RPC_NAMES.get(procValue >>> 0) ?? hex(procValue);
}

export type MessageKind = 'request' | 'response' | 'notification' | 'unknown';

export function messageKind(type: number): MessageKind {
  switch ((type & MsgTypeMask) >>> 0) {
    case MsgTypeRequest:
      return 'request';
    case MsgTypeResponse:
      return 'response';
    case MsgTypeNotify:
      return 'notification';
    default:
      return 'unknown';
  }
}

export const isRequest = (type: number): boolean => messageKind(type) === 'request';
export const isResponse = (type: number): boolean => messageKind(type) === 'response';
export const isNotification = (type: number): boolean => messageKind(type) === 'notification';

/** The Category bits (ComputeSystem / ComputeService). */
export const categoryOf = (type: number): number => (type & CategoryMask) >>> 0;
/** The 12-bit RPC number (1 = Create ...). */
export const messageIdOf = (type: number): number => (type & MessageIdMask) >>> 8;
/** The version byte (always 1). */
export const versionOf = (type: number): number => type & VersionMask;
/** The type without its T bits: the RPCProc of a request or response. */
export const rpcProcOf = (type: number): number => (type & ~MsgTypeMask) >>> 0;

/** Request Type for a proc. */
export const requestType = (procValue: number): number => (MsgTypeRequest | rpcProcOf(procValue)) >>> 0;
/** Response Type for a proc or a request Type (the guest's GetResponseIdentifier). */
export const responseType = (procOrRequestType: number): number =>
  (MsgTypeResponse | rpcProcOf(procOrRequestType)) >>> 0;

/** Human-readable type, e.g. "Request(Create)", "Notify(Container)", "0x40000000". */
export function msgTypeString(type: number): string {
  switch (messageKind(type)) {
    case 'request':
      return `Request(${rpcName(rpcProcOf(type))})`;
    case 'response':
      return `Response(${rpcName(rpcProcOf(type))})`;
    case 'notification':
      return type >>> 0 === ComputeSystemNotificationV1 ? 'Notify(Container)' : `Notify(${hex(type)})`;
    default:
      return hex(type);
  }
}
