CREATE TABLE "db_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"agent" text,
	"auth_method" text,
	"source_address" text NOT NULL,
	"database" text NOT NULL,
	"application_name" text,
	"read_only" boolean NOT NULL,
	"tls" boolean NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"outcome" text NOT NULL,
	"error" text,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "db_statement_batches" (
	"session_id" text NOT NULL,
	"first_seq" integer NOT NULL,
	"last_seq" integer NOT NULL,
	"written_at" timestamp with time zone NOT NULL,
	"statements" json NOT NULL,
	CONSTRAINT "db_statement_batches_session_id_first_seq_pk" PRIMARY KEY("session_id","first_seq")
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "db_scopes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "db_read_scopes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "scram_verifier" text;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "kind" text DEFAULT 'git' NOT NULL;--> statement-breakpoint
ALTER TABLE "db_statement_batches" ADD CONSTRAINT "db_statement_batches_session_id_db_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."db_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "db_sessions_started_at_idx" ON "db_sessions" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "db_sessions_agent_idx" ON "db_sessions" USING btree ("agent","started_at");