import { escapeXml } from "@osp/errors";

/** The S3 document namespace every response body carries. */
export const S3_XML_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

export interface ListedBucket {
  readonly name: string;
  readonly creationDate: Date;
}

export interface BucketOwner {
  readonly id: string;
  readonly displayName: string;
}

/**
 * Renders S3's ListBuckets answer, `ListAllMyBucketsResult` with Owner then Buckets (the order of S3's own
 * responses), names sorted as S3 sorts them, dates as ISO 8601 with milliseconds, every text escaped.
 * `creationDate` must be a valid Date (an invalid one throws RangeError from `toISOString`).
 */
export function renderListBuckets(buckets: ReadonlyArray<ListedBucket>, owner: BucketOwner): string {
  const sorted = [...buckets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="${S3_XML_NAMESPACE}">`;
  body += `<Owner><ID>${escapeXml(owner.id)}</ID><DisplayName>${escapeXml(owner.displayName)}</DisplayName></Owner>`;
  body += "<Buckets>";
  for (const bucket of sorted) {
    body += `<Bucket><Name>${escapeXml(bucket.name)}</Name><CreationDate>${bucket.creationDate.toISOString()}</CreationDate></Bucket>`;
  }
  return body + "</Buckets></ListAllMyBucketsResult>";
}
