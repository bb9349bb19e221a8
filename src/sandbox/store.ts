import type { ArmResource } from "../arm/resource.js";

export interface StoredResource {
  resource: ArmResource;
  etag: string;
}

/**
 * The sandbox's resources by lower-cased id, indexed by collection (the id up to its type segment), so that a list
 * call costs what its collection holds, not the whole estate: ARM-sized estates (60,000 resources) stay fast.
 */
export class ResourceStore {
  private readonly byKey = new Map<string, StoredResource>();
  private readonly collections = new Map<string, Set<string>>();
  /** Bumped by every change, so readers can cache derived views (Resource Graph's sorted result). */
  version = 0;

  get(key: string): StoredResource | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  set(key: string, value: StoredResource): void {
    this.version += 1;
    this.byKey.set(key, value);
    const collection = collectionOf(key);
    let members = this.collections.get(collection);
    if (!members) this.collections.set(collection, (members = new Set()));
    members.add(key);
  }

  delete(key: string): void {
    this.version += 1;
    this.byKey.delete(key);
    this.collections.get(collectionOf(key))?.delete(key);
  }

  /** The resource and everything below it (a workspace's computes, endpoints, deployments). */
  deleteTree(key: string): void {
    for (const other of [...this.byKey.keys()]) if (other === key || other.startsWith(`${key}/`)) this.delete(other);
  }

  values(): IterableIterator<StoredResource> {
    return this.byKey.values();
  }

  entries(): IterableIterator<[string, StoredResource]> {
    return this.byKey.entries();
  }

  /** Members of the collections whose key passes the test, in insertion order. */
  inCollections(test: (collectionKey: string) => boolean): StoredResource[] {
    const found: StoredResource[] = [];
    for (const [collection, members] of this.collections) {
      if (!test(collection)) continue;
      for (const key of members) found.push(this.byKey.get(key)!);
    }
    return found;
  }
}

function collectionOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/"));
}
