/** schema2 `Version`: `{Major, Minor}`; Minor 0 is omitted on the wire (omitempty). */
export interface SchemaVersion {
  Major: number;
  Minor?: number;
}
