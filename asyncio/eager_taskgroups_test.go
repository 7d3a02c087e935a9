package asyncio_test

import (
	"sync/atomic"
	"testing"
)

// eagerTestTasks makes mainTask's loops use EagerTaskFactory.
var eagerTestTasks atomic.Bool

// TestEagerTaskTaskGroup runs the task group suite again with every task
// started eagerly, as CPython's test_taskgroups.py does
// (TestEagerTaskTaskGroup): a task group must behave the same whether its
// tasks' first steps run inside CreateTaskIn or later.
func TestEagerTaskTaskGroup(t *testing.T) {
	eagerTestTasks.Store(true)
	defer eagerTestTasks.Store(false)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"TestTaskGroup_test_taskgroup_01", TestTaskGroup_test_taskgroup_01},
		{"TestTaskGroup_test_taskgroup_02", TestTaskGroup_test_taskgroup_02},
		{"TestTaskGroup_test_taskgroup_03", TestTaskGroup_test_taskgroup_03},
		{"TestTaskGroup_test_taskgroup_04", TestTaskGroup_test_taskgroup_04},
		{"TestTaskGroup_test_cancel_children_on_child_error", TestTaskGroup_test_cancel_children_on_child_error},
		{"TestTaskGroup_test_cancellation", TestTaskGroup_test_cancellation},
		{"TestTaskGroup_test_taskgroup_07", TestTaskGroup_test_taskgroup_07},
		{"TestTaskGroup_test_taskgroup_08", TestTaskGroup_test_taskgroup_08},
		{"TestTaskGroup_test_taskgroup_09", TestTaskGroup_test_taskgroup_09},
		{"TestTaskGroup_test_taskgroup_10", TestTaskGroup_test_taskgroup_10},
		{"TestTaskGroup_test_taskgroup_11", TestTaskGroup_test_taskgroup_11},
		{"TestTaskGroup_test_taskgroup_12", TestTaskGroup_test_taskgroup_12},
		{"TestTaskGroup_test_taskgroup_13", TestTaskGroup_test_taskgroup_13},
		{"TestTaskGroup_test_taskgroup_14", TestTaskGroup_test_taskgroup_14},
		{"TestTaskGroup_test_taskgroup_15", TestTaskGroup_test_taskgroup_15},
		{"TestTaskGroup_test_taskgroup_16", TestTaskGroup_test_taskgroup_16},
		{"TestTaskGroup_test_taskgroup_17", TestTaskGroup_test_taskgroup_17},
		{"TestTaskGroup_test_taskgroup_18", TestTaskGroup_test_taskgroup_18},
		{"TestTaskGroup_test_taskgroup_19", TestTaskGroup_test_taskgroup_19},
		{"TestTaskGroup_test_taskgroup_20", TestTaskGroup_test_taskgroup_20},
		{"TestTaskGroup__test_taskgroup_21", TestTaskGroup__test_taskgroup_21},
		{"TestTaskGroup_test_taskgroup_22", TestTaskGroup_test_taskgroup_22},
		{"TestTaskGroup_test_taskgroup_23", TestTaskGroup_test_taskgroup_23},
		{"TestTaskGroup_test_taskgroup_24", TestTaskGroup_test_taskgroup_24},
		{"TestTaskGroup_test_taskgroup_25", TestTaskGroup_test_taskgroup_25},
		{"TestTaskGroup_test_taskgroup_task_name", TestTaskGroup_test_taskgroup_task_name},
		{"TestTaskGroup_test_taskgroup_no_create_task_after_failure", TestTaskGroup_test_taskgroup_no_create_task_after_failure},
		{"TestTaskGroup_test_taskgroup_context_manager_exit_raises", TestTaskGroup_test_taskgroup_context_manager_exit_raises},
		{"TestTaskGroup_test_taskgroup_finished", TestTaskGroup_test_taskgroup_finished},
		{"TestTaskGroup_test_taskgroup_without_parent_task", TestTaskGroup_test_taskgroup_without_parent_task},
		{"TestTaskGroup_BodyPanic", TestTaskGroup_BodyPanic},
		{"TestTaskGroup_ErrorsIsAs", TestTaskGroup_ErrorsIsAs},
	} {
		t.Run(tc.name, tc.fn)
	}
}
