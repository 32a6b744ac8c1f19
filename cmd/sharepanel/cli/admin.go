package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/sharepanel/sharepanel"
	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

// withEngine opens the database at path, creating it if it does not
// exist, runs fn with an Engine over it and closes both. The Engine of an
// admin verb has no background flush: admin methods are not rate-limited,
// so there are no counters to write.
func withEngine(ctx context.Context, e *env, path string, plans domain.Catalog, fn func(*sharepanel.Engine) error) error {
	store, err := e.openStore(path, true)
	if err != nil {
		return err
	}
	return runEngine(store, path, plans, fn)
}

// withExistingEngine is withEngine for verbs that read or change records
// of an existing database: a mistyped --db fails instead of leaving a new,
// empty database behind.
func withExistingEngine(ctx context.Context, e *env, path string, plans domain.Catalog, fn func(*sharepanel.Engine) error) error {
	store, err := e.openStore(path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s does not exist: create it with serve or user create, or set --db", path)
	}
	if err != nil {
		return err
	}
	return runEngine(store, path, plans, fn)
}

// runEngine runs fn with an Engine over store and closes both.
func runEngine(store storage.Store, path string, plans domain.Catalog, fn func(*sharepanel.Engine) error) (err error) {
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database %s: %w", path, cerr)
		}
	}()

	engine, err := sharepanel.New(store, sharepanel.Config{Plans: plans, UsageFlushInterval: -1})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := engine.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return fn(engine)
}

// printJSON writes v as one line of JSON, the output of every admin verb.
func printJSON(e *env, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

// plansFlag adds --plans, for operators whose server runs with its own
// catalog: the admin verbs then check plan names and limits against it.
func plansFlag(fs *flagSet) *string {
	return fs.String("plans", "", "JSON `file` with the plan catalog that serve uses (default: the built-in plans)")
}

// loadPlans reads the --plans file, or returns the default catalog.
func loadPlans(e *env, path string) (domain.Catalog, error) {
	if path == "" {
		return domain.DefaultCatalog(), nil
	}
	plans, err := readPlans(e.resolve(path))
	if err != nil {
		return nil, usageErrorf("invalid --plans: %v", err)
	}
	return plans, nil
}

// planNames lists the names of a catalog's plans.
func planNames(plans domain.Catalog) []string {
	var names []string
	for _, p := range plans {
		names = append(names, p.Name)
	}
	return names
}

func runUserCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "user create", "--email E --password P [--username U] [--plan PLAN] [--balance AMOUNT] [--plans FILE]")
	db := dbFlag(fs)
	email := fs.String("email", "", "account email (required)")
	password := fs.String("password", "", "account password, 8 to 72 bytes (required)")
	username := fs.String("username", "", "username (default: the part of the email before @)")
	plan := fs.String("plan", "", "plan: free, basic, pro or enterprise, or a plan of --plans (default: the catalog's first plan, free)")
	balance := fs.String("balance", "0.00", "account balance in USD, at most two decimals")
	plansFile := plansFlag(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	plans, err := loadPlans(e, *plansFile)
	if err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"email": *email, "password": *password}, "email", "password"); err != nil {
		return err
	}
	if *plan == "" {
		*plan = plans[0].Name
	}
	if !slices.Contains(planNames(plans), *plan) {
		return usageErrorf("invalid --plan %q: use one of %v", *plan, planNames(plans))
	}
	amount, err := domain.ParseMoney(*balance)
	if err != nil {
		return usageErrorf("invalid --balance: %v", err)
	}

	return withEngine(ctx, e, *db, plans, func(engine *sharepanel.Engine) error {
		u, err := engine.CreateUser(ctx, domain.NewUser{
			Email: *email, Password: *password, Username: *username, Plan: *plan, Balance: amount,
		})
		if err != nil {
			return engineError(err)
		}
		return printJSON(e, struct {
			ID       int64        `json:"id"`
			Email    string       `json:"email"`
			Username string       `json:"username"`
			Plan     string       `json:"plan"`
			Balance  domain.Money `json:"balance"`
		}{u.ID, u.Email, u.Username, u.Plan, u.Balance})
	})
}

func runInstanceCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "instance create", "--user EMAIL --name NAME [--path P] [--status STATUS] [--type T] [--instance-type T] [--plans FILE]")
	db := dbFlag(fs)
	userEmail := fs.String("user", "", "`email` of the owner (required)")
	name := fs.String("name", "", "instance name (required)")
	path := fs.String("path", "", "instance path (default: derived from the name)")
	status := fs.String("status", domain.StatusActive, "status: active, sleep or dead")
	typ := fs.String("type", "SNCS", "instance type code")
	instanceType := fs.String("instance-type", "default", "instance size or template")
	plansFile := plansFlag(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	plans, err := loadPlans(e, *plansFile)
	if err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"user": *userEmail, "name": *name}, "user", "name"); err != nil {
		return err
	}
	if !domain.ValidInstanceStatus(*status) {
		return usageErrorf("invalid --status %q: use active, sleep or dead", *status)
	}

	return withExistingEngine(ctx, e, *db, plans, func(engine *sharepanel.Engine) error {
		u, err := engine.FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return engineError(err)
		}
		in, err := engine.CreateInstance(ctx, sharepanel.NewInstance{
			UserID: u.ID, Name: *name, Path: *path, Status: *status, Type: *typ, InstanceType: *instanceType,
		})
		if err != nil {
			return engineError(err)
		}
		return printJSON(e, struct {
			ID     int64  `json:"id"`
			UserID int64  `json:"user_id"`
			Name   string `json:"name"`
			Path   string `json:"path"`
			Status string `json:"status"`
		}{in.ID, in.UserID, in.Name, in.Path, in.Status})
	})
}

func runOrgAddMember(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "org add-member", "--org ID --user EMAIL [--role member|admin]")
	db := dbFlag(fs)
	org := fs.String("org", "", "organization `id` (required)")
	userEmail := fs.String("user", "", "`email` of the user to add (required)")
	role := fs.String("role", domain.RoleMember, "role: member or admin")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := requireFlags(map[string]string{"org": *org, "user": *userEmail}, "org", "user"); err != nil {
		return err
	}
	orgID, err := strconv.ParseInt(*org, 10, 64)
	if err != nil || orgID <= 0 {
		return usageErrorf("invalid --org %q: want a positive integer id", *org)
	}
	if *role != domain.RoleMember && *role != domain.RoleAdmin {
		return usageErrorf("invalid --role %q: use member or admin", *role)
	}

	return withExistingEngine(ctx, e, *db, nil, func(engine *sharepanel.Engine) error {
		u, err := engine.FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return engineError(err)
		}
		if err := engine.AddOrgMember(ctx, orgID, u.ID, *role); err != nil {
			return engineError(err)
		}
		// A membership has no id of its own; the pair of ids names it.
		return printJSON(e, struct {
			OrgID  int64  `json:"org_id"`
			UserID int64  `json:"user_id"`
			Role   string `json:"role"`
		}{orgID, u.ID, *role})
	})
}
