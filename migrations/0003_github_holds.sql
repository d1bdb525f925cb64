CREATE TABLE "github_holds" (
	"approval_id" text PRIMARY KEY NOT NULL,
	"installation_id" bigint NOT NULL,
	"owner" text NOT NULL,
	"repo" text NOT NULL,
	"head_sha" text NOT NULL,
	"pull_number" integer,
	"check_run_id" bigint,
	"refusals" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "github_login" text;--> statement-breakpoint
ALTER TABLE "github_holds" ADD CONSTRAINT "github_holds_approval_id_approvals_id_fk" FOREIGN KEY ("approval_id") REFERENCES "public"."approvals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "github_holds_pull_idx" ON "github_holds" USING btree ("owner","repo","pull_number");--> statement-breakpoint
CREATE INDEX "github_holds_check_run_idx" ON "github_holds" USING btree ("check_run_id");