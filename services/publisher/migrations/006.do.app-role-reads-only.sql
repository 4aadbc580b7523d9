-- publisher_app serves user-scoped requests, and those only read (the read API): every change to a post
-- arrives as a request event and is applied by publisher_worker. So publisher_app keeps SELECT on posts and
-- their media, where the seed's policies decide what a user sees, and loses the writes it never needed. The
-- seed's INSERT, UPDATE and DELETE policies stay as written (infra/db's isolation test proves them with a
-- role granted writes).
REVOKE INSERT, UPDATE, DELETE ON publisher.social_media_posts, publisher.post_media FROM publisher_app;
