-- 007: a session belongs to an existing user, and goes with the user.
-- 004 created sessions before 005 created users, so the reference is added here.
ALTER TABLE sessions
  ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
