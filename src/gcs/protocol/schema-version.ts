/** A schema version as the GCS protocol carries it (Capabilities.SupportedSchemaVersions, ContainerConfig). */
export interface SchemaVersion {
  Major: number;
  Minor: number;
}
