import assert from "node:assert/strict";
import { test } from "node:test";
import { parseListBuckets, renderListBuckets } from "../src/index.js";

test("reads names, dates and the owner of radosgw's answer", () => {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    "<Owner><ID>testid</ID><DisplayName>M. Tester</DisplayName></Owner><Buckets>" +
    "<Bucket><Name>data</Name><CreationDate>2024-05-06T07:08:09.010Z</CreationDate></Bucket>" +
    "<Bucket><Name>logs-01</Name><CreationDate>2025-01-02T03:04:05.000Z</CreationDate></Bucket>" +
    "</Buckets></ListAllMyBucketsResult>";
  assert.deepEqual(parseListBuckets(xml), {
    owner: { id: "testid", displayName: "M. Tester" },
    buckets: [
      { name: "data", creationDate: new Date("2024-05-06T07:08:09.010Z") },
      { name: "logs-01", creationDate: new Date("2025-01-02T03:04:05.000Z") },
    ],
  });
});

test("reads what osp renders, with whitespace, comments, CDATA, entities and unknown elements", () => {
  const rendered = renderListBuckets([{ name: "a&b", creationDate: new Date(1_700_000_000_000) }], {
    id: "<id>",
    displayName: "d",
  });
  const back = parseListBuckets(rendered);
  assert.equal(back?.buckets[0]?.name, "a&b");
  assert.equal(back?.owner?.id, "<id>");
  const xml = `\ufeff<?xml version="1.0"?>
<!-- a store's note -->
<ListAllMyBucketsResult>
  <Buckets>
    <Bucket>
      <Name><![CDATA[x]]>y&#x7a;</Name>
      <CreationDate>2024-05-06T07:08:09Z</CreationDate>
      <BucketRegion>eu-de</BucketRegion>
      <Extra><Nested a='>'/></Extra>
    </Bucket>
  </Buckets>
  <ContinuationToken>t</ContinuationToken>
</ListAllMyBucketsResult>
`;
  assert.deepEqual(parseListBuckets(xml), {
    owner: null,
    buckets: [{ name: "xyz", creationDate: new Date("2024-05-06T07:08:09Z") }],
  });
  assert.deepEqual(parseListBuckets("<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>"), {
    owner: null,
    buckets: [],
  });
});

test("refuses what is not a well-formed ListAllMyBucketsResult", () => {
  const bucket = (inner: string) =>
    `<ListAllMyBucketsResult><Buckets><Bucket>${inner}</Bucket></Buckets></ListAllMyBucketsResult>`;
  const cases = [
    "",
    "not xml",
    "<Error><Code>AccessDenied</Code></Error>",
    "<ListAllMyBucketsResult><Buckets></ListAllMyBucketsResult>",
    "<ListAllMyBucketsResult></ListAllMyBucketsResult><ListAllMyBucketsResult></ListAllMyBucketsResult>",
    "<ListAllMyBucketsResult>",
    '<!DOCTYPE x [<!ENTITY e "b">]><ListAllMyBucketsResult/>',
    bucket("<Name>a</Name>"),
    bucket("<CreationDate>2024-05-06T07:08:09Z</CreationDate>"),
    bucket("<Name>a</Name><CreationDate>yesterday</CreationDate>"),
    bucket("<Name>a&nope;</Name><CreationDate>2024-05-06T07:08:09Z</CreationDate>"),
    bucket("<Name>a&#0;</Name><CreationDate>2024-05-06T07:08:09Z</CreationDate>"),
    "<ListAllMyBucketsResult><Buckets><Bucket/></Buckets></ListAllMyBucketsResult>",
    `<ListAllMyBucketsResult>${"<a>".repeat(20)}${"</a>".repeat(20)}</ListAllMyBucketsResult>`,
  ];
  for (const xml of cases) assert.equal(parseListBuckets(xml), null, xml);
});

test("reads a hostile answer in linear time", () => {
  const many = `<ListAllMyBucketsResult><Buckets>${"<Bucket><Name>b</Name><CreationDate>2024-05-06T07:08:09Z</CreationDate></Bucket>".repeat(50_000)}</Buckets></ListAllMyBucketsResult>`;
  let started = performance.now();
  assert.equal(parseListBuckets(many)?.buckets.length, 50_000);
  assert.ok(performance.now() - started < 2_000);
  for (const junk of ["&".repeat(200_000), "<a ".repeat(100_000), "<!--".repeat(100_000)]) {
    started = performance.now();
    assert.equal(parseListBuckets(`<ListAllMyBucketsResult>${junk}`), null);
    assert.ok(performance.now() - started < 500, junk.slice(0, 8));
  }
});
