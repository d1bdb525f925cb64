CREATE TABLE "bypasses" (
	"id" text PRIMARY KEY NOT NULL,
	"delivery_id" text NOT NULL,
	"remote" text NOT NULL,
	"owner" text NOT NULL,
	"repo" text NOT NULL,
	"ref" text NOT NULL,
	"before" text NOT NULL,
	"after" text NOT NULL,
	"pusher_login" text NOT NULL,
	"agent" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "bypasses_at_idx" ON "bypasses" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "bypasses_delivery_ref_key" ON "bypasses" USING btree ("delivery_id","ref");