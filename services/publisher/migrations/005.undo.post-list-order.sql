DROP INDEX IF EXISTS publisher.idx_social_posts_list_order;
