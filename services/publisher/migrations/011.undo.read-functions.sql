DROP FUNCTION publisher.read_posts(TEXT, UUID, TEXT[], UUID, TEXT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, UUID, INTEGER);
DROP FUNCTION publisher.read_post(TEXT, UUID, UUID);
DROP VIEW publisher.post_resources;
DROP FUNCTION publisher.iso_instant(TIMESTAMPTZ);
DROP FUNCTION publisher.set_caller_claims(TEXT);
