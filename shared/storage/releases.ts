import type { Alert } from "../domain/alert";
import { recordRelease, releaseOf, type KnownReleases } from "../domain/releases";
import { safeKey, isConflict, isNotFound, isPreconditionFailed } from "./table";
import { TABLES, type StorageClients } from "./clients";

/**
 * The `releases` table: one row per project (PartitionKey = the project, RowKey ""), holding the project's
 * releases in the order they compare (`KnownReleases`, built only by `recordRelease`) as one JSON property.
 */
interface ReleasesEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  releases: string;
}

/**
 * How long an instance uses the list it read without reading it again. Its own recordings keep it current;
 * this bounds how long a release first reported through another instance stays unknown here.
 */
export const RELEASES_CACHE_MS = 60_000;
const MAX_WRITE_ATTEMPTS = 10;

interface Remembered {
  known: KnownReleases;
  /** Undefined: the project has no row yet. */
  etag: string | undefined;
  readAt: number;
}

/** Per storage account (one per instance in production; tests may run several in one process). */
const instanceCaches = new WeakMap<StorageClients, Map<string, Remembered>>();

export class ProjectReleases {
  private readonly cache: Map<string, Remembered>;

  constructor(
    private readonly storage: StorageClients,
    private readonly now: () => number = Date.now,
  ) {
    let cache = instanceCaches.get(storage);
    if (!cache) instanceCaches.set(storage, (cache = new Map()));
    this.cache = cache;
  }

  /**
   * The project's releases with the alert's release recorded, for the fold's regression decision. A release
   * this instance already knows costs no storage request (one read per project per RELEASES_CACHE_MS); a new
   * one costs one conditional write. An alert that names no release needs no list and reads nothing.
   */
  async forAlert(alert: Alert): Promise<KnownReleases> {
    const release = releaseOf(alert.issue.tags);
    if (!release) return this.cache.get(alert.issue.project)?.known ?? [];
    const seen = Math.min(Date.parse(alert.issue.lastSeen), this.now());
    return this.record(alert.issue.project, release, new Date(seen));
  }

  /** Records that the project reported `version` at `at`; returns the project's releases with it. */
  async record(project: string, version: string, at: Date): Promise<KnownReleases> {
    let remembered = await this.current(project);
    for (let attempt = 1; ; attempt++) {
      const known = recordRelease(remembered.known, version, at);
      if (known === remembered.known) return known;
      try {
        remembered = await this.write(project, known, remembered.etag);
        return known;
      } catch (error) {
        // Another instance recorded a release meanwhile: take its list and record ours into it.
        if (!(isPreconditionFailed(error) || isConflict(error)) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
        remembered = await this.read(project);
      }
    }
  }

  /** The project's releases, as this instance last read or wrote them (read again once RELEASES_CACHE_MS old). */
  async list(project: string): Promise<KnownReleases> {
    return (await this.current(project)).known;
  }

  private async current(project: string): Promise<Remembered> {
    const remembered = this.cache.get(project);
    if (remembered && this.now() - remembered.readAt < RELEASES_CACHE_MS) return remembered;
    return this.read(project);
  }

  private async read(project: string): Promise<Remembered> {
    const table = await this.storage.table(TABLES.releases);
    let remembered: Remembered;
    try {
      const entity = await table.getEntity<ReleasesEntity>(safeKey(project), "");
      remembered = { known: parseReleases(entity.releases), etag: entity.etag, readAt: this.now() };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      remembered = { known: [], etag: undefined, readAt: this.now() };
    }
    this.cache.set(project, remembered);
    return remembered;
  }

  private async write(project: string, known: KnownReleases, etag: string | undefined): Promise<Remembered> {
    const table = await this.storage.table(TABLES.releases);
    const entity: ReleasesEntity = { partitionKey: safeKey(project), rowKey: "", releases: JSON.stringify(known) };
    const response = etag ? await table.updateEntity(entity, "Replace", { etag }) : await table.createEntity(entity);
    const remembered = { known, etag: response.etag, readAt: this.cache.get(project)?.readAt ?? this.now() };
    this.cache.set(project, remembered);
    return remembered;
  }
}

function parseReleases(text: string | undefined): KnownReleases {
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed)
      ? parsed.filter((r): r is KnownReleases[number] => typeof r?.version === "string" && typeof r?.firstSeen === "string")
      : [];
  } catch {
    return [];
  }
}
