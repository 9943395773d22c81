import assert from "node:assert/strict";
import { test } from "node:test";
import { renderListBuckets } from "../src/index.js";

test("renders ListAllMyBucketsResult with the owner first and names sorted", () => {
  const xml = renderListBuckets(
    [
      { name: "zeta", creationDate: new Date("2024-05-06T07:08:09.010Z") },
      { name: "alpha", creationDate: new Date(0) },
    ],
    { id: "osp", displayName: "osp gateway" },
  );
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      "<Owner><ID>osp</ID><DisplayName>osp gateway</DisplayName></Owner>" +
      "<Buckets>" +
      "<Bucket><Name>alpha</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket>" +
      "<Bucket><Name>zeta</Name><CreationDate>2024-05-06T07:08:09.010Z</CreationDate></Bucket>" +
      "</Buckets></ListAllMyBucketsResult>",
  );
});

test("renders an empty bucket list", () => {
  const xml = renderListBuckets([], { id: "1", displayName: "d" });
  assert.match(xml, /<Buckets><\/Buckets><\/ListAllMyBucketsResult>$/);
});

test("escapes owner and bucket text", () => {
  const xml = renderListBuckets([{ name: "a<b>&", creationDate: new Date(0) }], {
    id: `"'`,
    displayName: "x&y",
  });
  assert.match(xml, /<ID>&quot;&apos;<\/ID><DisplayName>x&amp;y<\/DisplayName>/);
  assert.match(xml, /<Name>a&lt;b&gt;&amp;<\/Name>/);
});

test("does not reorder the caller's array", () => {
  const buckets = [
    { name: "b", creationDate: new Date(0) },
    { name: "a", creationDate: new Date(0) },
  ];
  renderListBuckets(buckets, { id: "1", displayName: "d" });
  assert.deepEqual(
    buckets.map((b) => b.name),
    ["b", "a"],
  );
});
