package sharepanel

import (
	"errors"
	"fmt"

	"github.com/sharepanel/sharepanel/domain"
	"github.com/sharepanel/sharepanel/storage"
)

var instanceStatuses = []string{domain.StatusActive, domain.StatusSleep, domain.StatusDead}

func instanceActions() []*ActionSpec {
	return []*ActionSpec{
		{
			Mode: "instances", Action: "list", List: true,
			Params:  []Param{{Name: "status", Type: TypeString, Enum: instanceStatuses, Description: "Only instances with this status"}},
			Summary: "List the caller's instances",
			run:     (*call).listInstances,
		},
		{
			Mode: "instances", Action: "delete_dead", Mutating: true, DryRun: true, Destructive: true,
			Summary: "Delete every instance of the caller whose status is dead",
			run:     (*call).deleteDead,
		},
		{
			Mode: "instances", Action: "awaken_all", Mutating: true, DryRun: true,
			Summary: "Set every sleeping instance of the caller to active",
			run: func(c *call) (result, error) {
				return c.moveAll(domain.StatusSleep, domain.StatusActive, domain.MsgAwakened)
			},
		},
		{
			Mode: "instances", Action: "sleep_all", Mutating: true, DryRun: true,
			Summary: "Set every active instance of the caller to sleep",
			run: func(c *call) (result, error) {
				return c.moveAll(domain.StatusActive, domain.StatusSleep, domain.MsgSlept)
			},
		},
		{
			Mode: "instances", Action: "update_status", Mutating: true,
			Params: []Param{
				{Name: "instance_id", Type: TypeInt, Required: true, Min: 1, Description: "Instance ID"},
				{Name: "status", Type: TypeString, Required: true, Enum: instanceStatuses, Description: "New status: active, sleep or dead"},
			},
			Summary: "Set one instance's status",
			run:     (*call).updateInstanceStatus,
		},
	}
}

// instanceItem is one row of instances list.
type instanceItem struct {
	ID           int64  `json:"id"`
	Name         string `json:"instance_name"`
	Path         string `json:"instance_path"`
	CreatedAt    string `json:"created_at"`
	Status       string `json:"status"`
	InstanceType string `json:"instance_type"`
	Type         string `json:"type"`
	OrgID        *int64 `json:"org_id"`
}

func newInstanceItem(in *domain.Instance) instanceItem {
	item := instanceItem{ID: in.ID, Name: in.Name, Path: in.Path, CreatedAt: formatListTime(in.CreatedAt), Status: in.Status, InstanceType: in.InstanceType, Type: in.Type}
	if in.OrgID != 0 {
		item.OrgID = &in.OrgID
	}
	return item
}

func (c *call) listInstances() (result, error) {
	f := storage.InstanceFilter{UserID: c.userID, Status: c.req.Params["status"]}
	list, total, err := c.tx.FindInstances(c.ctx, f, c.page)
	if err != nil {
		return result{}, err
	}
	rows := make([]instanceItem, 0, len(list))
	for i := range list {
		rows = append(rows, newInstanceItem(&list[i]))
	}
	return c.listResult(domain.MsgInstancesListed, rows, total), nil
}

func (c *call) deleteDead() (result, error) {
	ids, err := c.tx.FindInstanceIDs(c.ctx, storage.InstanceFilter{UserID: c.userID, Status: domain.StatusDead})
	if err != nil {
		return result{}, err
	}
	msg := domain.MsgDeadDeleted(len(ids))
	if c.dryRun {
		return result{message: msg + domain.MsgDryRunNoteSuffix, data: nonNil(ids)}, nil
	}
	if len(ids) > 0 {
		if err := c.tx.DeleteInstances(c.ctx, c.userID, ids); err != nil {
			return result{}, err
		}
		if err := c.log("instances.delete_dead", fmt.Sprintf("%d instances", len(ids))); err != nil {
			return result{}, err
		}
	}
	return result{message: msg, data: nonNil(ids)}, nil
}

// moveAll sets every instance of the caller in status from to status to.
func (c *call) moveAll(from, to string, message func(int) string) (result, error) {
	ids, err := c.tx.FindInstanceIDs(c.ctx, storage.InstanceFilter{UserID: c.userID, Status: from})
	if err != nil {
		return result{}, err
	}
	msg := message(len(ids))
	if c.dryRun {
		return result{message: msg + domain.MsgDryRunNoteSuffix, data: nonNil(ids)}, nil
	}
	if len(ids) > 0 {
		if err := c.tx.SetInstanceStatus(c.ctx, c.userID, ids, to); err != nil {
			return result{}, err
		}
		if err := c.log("instances."+c.spec.Action, fmt.Sprintf("%d instances", len(ids))); err != nil {
			return result{}, err
		}
	}
	return result{message: msg, data: nonNil(ids)}, nil
}

func (c *call) updateInstanceStatus() (result, error) {
	id, err := c.idParam("instance_id", domain.MsgInstanceIDRequired)
	if err != nil {
		return result{}, err
	}
	status := c.req.Params["status"]
	if status == "" {
		return result{}, &domain.Error{Code: domain.CodeMissingParameter, Message: domain.MsgStatusRequired}
	}
	if !domain.ValidInstanceStatus(status) {
		return result{}, &domain.Error{Code: domain.CodeInvalidParameter, Message: domain.MsgInvalidStatus}
	}
	in, err := c.tx.FindInstanceByID(c.ctx, c.userID, id)
	if errors.Is(err, domain.ErrNotFound) {
		return result{}, &domain.Error{Code: domain.CodeNotFound, Message: domain.MsgInstanceNotFound}
	}
	if err != nil {
		return result{}, err
	}
	if in.Status != status {
		if err := c.tx.SetInstanceStatus(c.ctx, c.userID, []int64{id}, status); err != nil {
			return result{}, err
		}
		if err := c.log("instances.update_status", fmt.Sprintf("instance %d: %s -> %s", id, in.Status, status)); err != nil {
			return result{}, err
		}
	}
	return result{message: domain.MsgInstanceUpdated, data: map[string]any{"instance_id": id, "status": status}}, nil
}

// nonNil returns ids, or an empty slice for nil, so data encodes as [].
func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
